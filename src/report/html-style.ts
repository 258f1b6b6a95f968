// The HTML report's stylesheet: status colours, a sticky header, compact rows for hundreds of hosts, and the filters.

const STATUS = `
.s-compliant,.c-pass{--c:#1a7f37;--bg:#dafbe1}
.s-fixed,.c-fixed{--c:#0a6b84;--bg:#d3f2fa}
.s-drift,.c-fail{--c:#8a5a00;--bg:#fff1c2}
.s-unreachable,.s-failed,.c-error{--c:#b42318;--bg:#ffe0dc}
.c-finding{--c:#6639ba;--bg:#efe6ff}
.c-skipped,.c-none{--c:#6e7781;--bg:#f3f4f6}
td.status,.badge,.count{color:var(--c);background:var(--bg);font-weight:600}
td.cell{color:var(--c);background:var(--bg);text-align:center;width:1.6em;padding:0;border:1px solid #fff}
`;

/** A checked filter hides every host it leaves out: CSS :has(), so the page needs no script. */
const FILTERS = `
body:has(#filter-attention:checked) tbody.host:not(.attention),
body:has(#filter-drift:checked) tbody.host:not(.s-drift),
body:has(#filter-failed:checked) tbody.host:not(.s-failed):not(.s-unreachable){display:none}
`;

export const HTML_STYLE = `
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 1em 2em;color:#1f2328}
header{position:sticky;top:0;background:#fff;z-index:2;padding:.5em 0;border-bottom:1px solid #d0d7de}
h1{font-size:1.25em;margin:.2em 0}
.summary{margin:.3em 0}
.count{padding:.1em .5em;border-radius:1em;margin-right:.3em;--c:#1f2328;--bg:#eaeef2}
.filters label{margin:0 1em 0 .2em;cursor:pointer}
table.matrix{border-collapse:collapse;margin-top:.5em}
th,td{padding:.15em .5em;text-align:left;white-space:nowrap}
thead th{position:sticky;top:5.6em;background:#fff;z-index:1;vertical-align:bottom;border-bottom:1px solid #d0d7de}
th.check{padding:0 .15em}
th.check span{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:500;max-height:14em;overflow:hidden;text-overflow:ellipsis}
th.name{font-weight:600}
tbody.host tr.row:hover{outline:1px solid #8c959f}
tr.details td{padding:0 .5em .3em 1.5em;white-space:normal}
details summary{cursor:pointer;color:#57606a}
details[open] summary{color:#1f2328}
ul.checks,ul.attempts{margin:.3em 0;padding-left:1.2em}
li.check{margin:.3em 0}
.badge{padding:0 .4em;border-radius:.3em;font-size:.9em}
.message{color:#57606a}
.change p{margin:.3em 0 .1em}
.error,.diagnosis{margin:.3em 0}
.finding{color:#8a5a00}
pre.diff{background:#f6f8fa;padding:.4em .6em;margin:.3em 0;overflow-x:auto;font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;max-width:110ch}
pre.diff .add{color:#1a7f37}
pre.diff .del{color:#b42318}
pre.diff .hunk{color:#0a6b84}
${STATUS}
${FILTERS}
`;
