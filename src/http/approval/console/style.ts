/** The console's one stylesheet (served at /console.css; no inline styles under the CSP). */
export const CONSOLE_CSS = `
:root { color-scheme: light; font-family: system-ui, sans-serif; }
body { margin: 0; background: #f6f7f9; color: #1b1f24; }
header { background: #1b1f24; color: #fff; padding: .6rem 1.2rem; display: flex; gap: 1rem; align-items: center; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header .who { margin-left: auto; font-size: .9rem; }
header form { display: inline; }
main { max-width: 60rem; margin: 1.2rem auto; padding: 0 1rem; }
h1 { font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid #e3e6ea; vertical-align: top; }
th { width: 12rem; color: #57606a; font-weight: 500; }
.list th { width: auto; }
.ctl { background: #ffe3e3; color: #a40000; border: 1px solid #e5a0a0; border-radius: 3px; font-family: ui-monospace, monospace; font-size: .85em; padding: 0 2px; }
.agent-text { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
.destructive { color: #a40000; font-weight: 700; }
.bad { background: #fff1f1; }
.status { min-height: 1.4em; margin: .8rem 0; }
.status.bad { color: #a40000; }
button { font-size: 1rem; padding: .5rem 1.1rem; border-radius: 6px; border: 1px solid #8c959f; background: #fff; cursor: pointer; }
button.approve { background: #1a7f37; color: #fff; border-color: #1a7f37; }
button.deny { background: #cf222e; color: #fff; border-color: #cf222e; }
.actions { display: flex; gap: .8rem; margin-top: 1rem; }
.notice { background: #fff8c5; border: 1px solid #d4a72c; padding: .6rem .8rem; border-radius: 6px; }
ol.trajectory { background: #fff; padding: .6rem 2rem; }
ol.trajectory li { padding: .2rem 0; }
ol.trajectory ul.details { margin: .1rem 0 .2rem; padding-left: 1.2rem; color: #333; font-size: .92em; }
ol.trajectory ul.details li { padding: 0; }
code { font-family: ui-monospace, monospace; }
`;
