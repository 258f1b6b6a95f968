// PAM's rules as data: access.conf rules for one login (the token kinds of access.conf(5)), and the account stack read
// from pam.d files (includes, continuations, controls).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountStack, failureWeight } from '../../src/facts/pam-stack.js';
import { ACCESS_DEFAULTS, accessRules, type AccessLogin } from '../../src/modules/pam-access-rules.js';

const LOGIN: AccessLogin = { user: 'deploy', uid: '1000', groups: ['deploy', 'sudo'], gids: ['1000', '27'], from: '198.18.1.1', hostname: 'web1.example.com' };

/** [what, access.conf, the login's differences, the outcome: the deciding rule's line and +/-, "maybe LINE", or "none"]. */
const ACCESS: [string, string, Partial<AccessLogin>, string][] = [
  ['no rule matches', '-:alice:ALL\n', {}, 'none'],
  ['the user by name, any case', '-:DEPLOY:ALL\n', {}, '1 -'],
  ['ALL EXCEPT the user', '-:ALL EXCEPT deploy:ALL\n', {}, 'none'],
  ['a comment only at the start of a line; a line starting with a space is malformed', '#-:ALL:ALL\n -:ALL:ALL\n+:ALL:ALL\n', {}, '3 +'],
  ['a rule missing its origin field is skipped', '-:deploy\n+:ALL:ALL\n', {}, '2 +'],
  ['an IPv4 netmask in dotted form', '-:ALL:198.18.0.0/255.254.0.0\n', {}, '1 -'],
  ['a prefix length outside the network', '-:ALL:198.19.0.0/16\n', {}, 'none'],
  ['a prefix length in hex, as strtol reads it', '-:ALL:198.18.0.0/0x10\n', {}, '1 -'],
  ['a prefix length of 0 applies no mask: only that address', '-:ALL:0.0.0.0/0\n', {}, 'none'],
  ['an IPv6 network', '-:ALL:fd00:ff::/32\n', { from: 'fd00:ff:1::1' }, '1 -'],
  ['an IPv4 rule never matches an IPv6 origin', '-:ALL:198.18.\n', { from: 'fd00:ff:1::1' }, 'none'],
  ['an origin field holding colons (IPv6) after the separator', '-:deploy:fd00:ff:1::1\n', { from: 'fd00:ff:1::1' }, '1 -'],
  ['a domain against an address: no match', '-:ALL:.example.com\n', {}, 'none'],
  ['user@host: a domain of this host', '-:deploy@.example.com:ALL\n', {}, '1 -'],
  ['user@host: another host', '-:deploy@db1.example.com:ALL\n', {}, 'maybe 1'],
  ['a uid (later Linux-PAM)', '-:1000:ALL\n', {}, 'maybe 1'],
  ['a tty is never an origin over sshd', '-:ALL:tty1\n', {}, 'none'],
  ['the origin unknown: only ALL decides', '-:deploy:10.0.0.0/8\n-:deploy:ALL\n', { from: undefined }, 'maybe 1'],
  ['a certain allow after a rule that may deny: the may is named, the allow decides if it does not', '-:@ops:ALL\n+:ALL:ALL\n', {}, 'maybe 1'],
];

describe('accessRules: the first rule that matches decides', () => {
  for (const [name, text, login, want] of ACCESS) {
    it(name, () => {
      const { rules, decided } = accessRules([{ path: '/etc/security/access.conf', text }], { ...LOGIN, ...login }, ACCESS_DEFAULTS);
      const last = rules[rules.length - 1];
      const got = rules.length === 0 ? 'none' : !decided || rules.length > 1 ? `maybe ${rules[0]!.line}` : `${last!.line} ${last!.allow ? '+' : '-'}`;
      assert.equal(got, want, JSON.stringify(rules));
    });
  }
});

const SSHD = 'account required pam_nologin.so\n@include common-account\naccount \\\n  [default=ignore success=1] pam_access.so # inline comment\naccount include site\n';

describe('accountStack: the account lines sshd runs, includes followed', () => {
  it('in order, a continuation as one line, an include and @include followed, other types left out, a loop named', () => {
    const { lines, unread } = accountStack([
      { path: '/etc/pam.d/sshd', text: SSHD },
      { path: '/etc/pam.d/common-account', text: 'auth required pam_unix.so\naccount required /lib/security/pam_unix.so\n' },
      { path: '/etc/pam.d/site', text: 'account requisite pam_deny.so\n@include sshd\n' },
    ]);
    assert.deepEqual(
      lines.map((l) => `${l.file}:${l.line} ${l.control} ${l.module}`),
      ['/etc/pam.d/sshd:1 required pam_nologin.so', '/etc/pam.d/common-account:2 required pam_unix.so', '/etc/pam.d/sshd:3 [default=ignore success=1] pam_access.so', '/etc/pam.d/site:1 requisite pam_deny.so'],
    );
    assert.deepEqual(unread, ['/etc/pam.d/sshd'], 'site includes sshd, which includes site: a loop, not read again');
  });

  it('without /etc/pam.d/sshd, libpam uses other', () => {
    assert.equal(accountStack([{ path: '/etc/pam.d/other', text: 'account required pam_deny.so\n' }]).service, '/etc/pam.d/other');
  });

  it('a failure ignored, then a requisite pam_deny: refused; a jump that may skip it: may refuse', () => {
    const read = (text: string) => accountStack([{ path: '/etc/pam.d/sshd', text }]).lines;
    assert.equal(failureWeight(read('account [default=ignore] pam_access.so\naccount requisite pam_deny.so\n'), 0, ['perm_denied']), 'refuses');
    assert.equal(failureWeight(read('account [default=ignore] pam_access.so\naccount [success=1 default=ignore] pam_sss.so\naccount requisite pam_deny.so\n'), 0, ['perm_denied']), 'may-refuse');
    assert.equal(failureWeight(read('account [perm_denied=1 default=bad] pam_access.so\naccount requisite pam_deny.so\naccount required pam_permit.so\n'), 0, ['perm_denied']), 'may-refuse');
    assert.equal(failureWeight(read('account [perm_denied=die default=ignore] pam_access.so\n'), 0, ['perm_denied']), 'refuses');
  });
});
