// The page frame every dashboard page shares: a skip link, the navigation (what the principal may use), the
// signed-in person with a logout form, and the main landmark. Styles and the small script are static files
// (web-assets.ts), no build step.
import { hasRole, type Principal } from '../server/access.js';
import { html, type SafeHtml } from './html.js';

export interface PageOptions {
  title: string;
  principal?: Principal | undefined;
  csrfToken?: string | undefined;
  /** The navigation entry to mark as current. */
  section?: string;
  body: SafeHtml;
  /** A one-line notice above the content (after an action). */
  notice?: string | undefined;
}

const SECTIONS: Array<{ id: string; href: string; label: string; needs?: 'security' }> = [
  { id: 'inventory', href: '/', label: 'Inventory' },
  { id: 'rotations', href: '/rotations', label: 'Rotations' },
  { id: 'findings', href: '/findings', label: 'Findings' },
  { id: 'requests', href: '/requests', label: 'Key requests' },
  { id: 'leavers', href: '/leavers', label: 'Leavers' },
  { id: 'teams', href: '/teams', label: 'Teams' },
  { id: 'audit', href: '/audit', label: 'Audit', needs: 'security' },
];

export function page(options: PageOptions): string {
  const { principal } = options;
  const nav = principal
    ? html`<nav aria-label="Main"><ul>${SECTIONS.filter((s) => !s.needs || hasRole(principal, s.needs)).map(
        (s) =>
          html`<li><a href="${s.href}"${s.id === options.section ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
      )}</ul></nav>
      <form method="post" action="/logout" class="whoami">
        <span>${principal.email ?? principal.subject} (${principal.roles.join(', ')})</span>
        <input type="hidden" name="_csrf" value="${options.csrfToken ?? ''}">
        <button type="submit">Sign out</button>
      </form>`
    : '';
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · keyledger</title>
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/dashboard.js" defer></script>
</head><body>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">keyledger</a>${nav}</header>
<main id="main" tabindex="-1">
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
<h1>${options.title}</h1>
${options.body}
</main>
</body></html>
`.text;
}
