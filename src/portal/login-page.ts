// The sign-in page (GET /portal/login, and again with an error after a refused attempt): one field,
// `token`, a password input so the token is not shown or kept by the browser's autofill history.
import { html } from 'hono/html'
import { layout } from './layout.ts'

export function renderLogin(opts: { nonce: string; error?: string; notice?: string }) {
  return layout({
    title: 'Sign in · Steward portal',
    nonce: opts.nonce,
    heading: html`<h1>Steward customer portal</h1>`,
    body: html`<section aria-labelledby="signin-h">
<h2 id="signin-h">Sign in</h2>
${opts.notice ? html`<p class="notice" role="status">${opts.notice}</p>` : ''}
${opts.error ? html`<p class="error" role="alert" id="signin-error">${opts.error}</p>` : ''}
<form method="post" action="/portal/login">
<label for="token">API token</label>
<p class="hint" id="token-hint">One of your organisation's API tokens (it starts with <code>stw_</code>). The token is not stored in your browser: the portal gives it a session that ends when you sign out or stop using it.</p>
<input type="password" id="token" name="token" required autocomplete="off" spellcheck="false" aria-describedby="token-hint${opts.error ? ' signin-error' : ''}"${opts.error ? html` aria-invalid="true"` : ''}>
<p><button class="primary" type="submit">Sign in</button></p>
</form>
</section>`,
  })
}
