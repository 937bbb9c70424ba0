// The dashboard's stylesheet and script, served as static text. The CSS keeps text at WCAG AA contrast and
// reflows to one column under 40rem (readable at 375 px); tables scroll inside their own box. The script only
// adds keyboard conveniences (`/` focuses the filter), a confirmation before destructive actions, and refetches a
// page's `[data-refresh]` region while work shown there is running (the leavers pages); every page works without it.
export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1f24;background:#fff}
a{color:#0550ae}a:focus,button:focus,input:focus,select:focus,textarea:focus,summary:focus{outline:3px solid #bf3989;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem}.skip:focus{left:.5rem}
header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1rem;border-bottom:1px solid #d0d7de;background:#f6f8fa}
.brand{font-weight:700;text-decoration:none;color:#1b1f24}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.whoami{margin-left:auto;display:flex;gap:.5rem;align-items:center;flex-wrap:wrap}
main{padding:1rem;max-width:80rem;margin:0 auto}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.75rem;margin:0 0 1rem;padding:0;list-style:none}
.cards li{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem}
.cards strong{display:block;font-size:1.6rem;font-variant-numeric:tabular-nums}
.cards a{text-decoration:none}.cards a:hover{text-decoration:underline}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}
code{font-size:90%;word-break:break-all}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:flex-end;margin-bottom:1rem}
label{display:flex;flex-direction:column;font-weight:600;font-size:.9rem;gap:.2rem}
input,select,textarea,button{font:inherit;padding:.35rem .5rem;border:1px solid #57606a;border-radius:4px;background:#fff;color:#1b1f24}
button{background:#0550ae;color:#fff;border-color:#0550ae;cursor:pointer}
button.secondary{background:#fff;color:#0550ae}
button.danger{background:#a40e26;border-color:#a40e26}
.inline{display:inline-flex;gap:.4rem;align-items:flex-end;flex-wrap:wrap;margin:.2rem 0}
.stack{display:grid;gap:.75rem;max-width:32rem}
.notice{border-left:4px solid #1a7f37;background:#dafbe1;padding:.5rem .8rem}
.error{border-left:4px solid #a40e26;background:#ffebe9;padding:.5rem .8rem}
.flag{display:inline-block;border:1px solid #57606a;border-radius:1rem;padding:0 .45rem;font-size:.8rem;margin:.1rem}
.flag.bad{border-color:#a40e26;color:#a40e26}
dl.entry{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dl.entry dt{font-weight:600}dl.entry dd{margin:0}
.pager{display:flex;gap:1rem;align-items:center}
figure{margin:1rem 0}figcaption{font-weight:600}
@media (max-width:40rem){dl.entry{grid-template-columns:1fr}dl.entry dd{margin-bottom:.4rem}.whoami{margin-left:0}
  table.responsive thead{position:absolute;left:-999px}
  table.responsive tr{display:block;border-bottom:2px solid #d0d7de;padding:.3rem 0}
  table.responsive td{display:block;border:0;padding:.1rem 0}
  table.responsive td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
`;

export const DASHBOARD_JS = `
document.addEventListener('keydown', function (event) {
  if (event.key !== '/' || /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement && document.activeElement.tagName)) return;
  var filter = document.querySelector('[data-filter]');
  if (filter) { event.preventDefault(); filter.focus(); }
});
document.addEventListener('submit', function (event) {
  var message = event.target.getAttribute('data-confirm');
  if (message && !window.confirm(message)) event.preventDefault();
});
(function () {
  var region = document.querySelector('[data-refresh][id]');
  if (!region || !window.fetch || !window.DOMParser) return;
  var seconds = Number(region.getAttribute('data-refresh')) || 5;
  function tick() {
    region.setAttribute('aria-busy', 'true');
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, 'text/html').getElementById(region.id);
        region.setAttribute('aria-busy', 'false');
        if (!next) return;
        region.innerHTML = next.innerHTML;
        if (next.hasAttribute('data-refresh')) setTimeout(tick, seconds * 1000);
        else region.removeAttribute('data-refresh');
      })
      .catch(function () { region.setAttribute('aria-busy', 'false'); setTimeout(tick, seconds * 2000); });
  }
  setTimeout(tick, seconds * 1000);
})();
`;
