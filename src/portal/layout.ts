// The frame of every portal page: a document with inline CSS (allowed by the page's nonce), the
// landmarks (header, main, footer) and a skip link. Text keeps at least 4.5:1 contrast against its
// background; states are always written in words beside their colour.
import { html, raw } from 'hono/html'
import type { HtmlEscapedString } from 'hono/utils/html'
import { COMPONENT_CSS } from '../status/index.ts'

type Content = HtmlEscapedString | Promise<HtmlEscapedString>

const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
.wrap{max-width:1040px;margin:0 auto;padding:0 1rem}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.5rem;z-index:1}
header{border-bottom:1px solid #d0d7de;padding:1rem 0}
header .wrap{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
header h1{margin:0;font-size:1.5rem}
header p{margin:0;color:#59636e}
a{color:#0550ae}
button{font:inherit;padding:.35rem .9rem;border-radius:6px;border:1px solid #1f2328;background:#f6f8fa;color:#1f2328;cursor:pointer}
button.primary{background:#0550ae;border-color:#0550ae;color:#fff}
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #0969da;outline-offset:2px}
section{margin:2rem 0}
h2{font-size:1.25rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
h3{font-size:1.05rem;margin:1.5rem 0 .5rem}article h3{margin:0 0 .25rem}
.banner{margin:1rem 0;padding:.8rem 1.1rem;border-radius:6px;font-weight:600;color:#fff}
.notice{margin:1rem 0;padding:.8rem 1.1rem;border-radius:6px;background:#ddf4ff;border:1px solid #54aeff}
.error{margin:1rem 0;padding:.8rem 1.1rem;border-radius:6px;background:#ffebe9;border:1px solid #cf222e;color:#82071e}
${COMPONENT_CSS}
.met{color:#1a7f37}.missed{color:#cf222e}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:1rem}
.card{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem}
.card .label{margin:0;color:#59636e;font-size:.95rem}
.card .figure{margin:.2rem 0;font-size:1.6rem;font-weight:700}
.card .sub{margin:0;font-size:.9rem;color:#59636e}
.met,.missed{font-weight:600}
article{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:.8rem 1rem;margin:0 0 1rem}
article.open{border-left-color:#cf222e}article.resolved{border-left-color:#59636e}
.meta{margin:.2rem 0;color:#59636e;font-size:.95rem}
.estimate{margin:.4rem 0;font-weight:600}
ol.timeline{margin:.5rem 0 0;padding-left:1.2rem;font-size:.95rem}
table{border-collapse:collapse;font-size:.95rem;width:100%;margin:.75rem 0}
caption{text-align:left;font-weight:600;padding:.3rem 0}
td,th{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left;vertical-align:top}
td.num,th.num{text-align:right}
form.inline{display:inline;margin:0}
.failure{margin:.2rem 0 0;font-size:.9rem;color:#59636e}
.failure code{color:#1f2328;white-space:pre-wrap;word-break:break-word}
figure{margin:.5rem 0}figcaption{color:#59636e;font-size:.9rem}
.chart{display:block;max-width:100%;height:auto}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:1.2rem;padding:0;margin:.3rem 0;font-size:.9rem}
.key{display:inline-block;width:1.6em;height:0;vertical-align:middle;margin-right:.35em;border-top:3px solid #0550ae}
.key.ideal{border-top:2px dashed #59636e}
.none{color:#59636e}
.vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
label{display:block;font-weight:600;margin:.5rem 0 .25rem}
input[type=password]{font:inherit;width:100%;max-width:32rem;padding:.4rem .6rem;border:1px solid #59636e;border-radius:6px}
.hint{color:#59636e;font-size:.9rem;margin:.25rem 0 .8rem}
footer{border-top:1px solid #d0d7de;margin-top:2rem;padding:1rem 0 2rem;color:#59636e;font-size:.9rem}
`

/** A whole portal page; `nonce` allows its one style element (and the dashboard's script). */
export function layout(opts: {
  title: string
  nonce: string
  heading: Content
  headerAside?: Content
  body: Content
  footer?: Content
  script?: string
}) {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${opts.title}</title>
<link rel="icon" href="data:,">
<style nonce="${opts.nonce}">${raw(CSS)}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header><div class="wrap">${opts.heading}${opts.headerAside ?? ''}</div></header>
<main id="main" class="wrap">
${opts.body}
</main>
<footer><div class="wrap">${opts.footer ?? html`Steward customer portal. Times are UTC. The public <a href="/status">status page</a> shows the whole platform.`}</div></footer>
${opts.script ? html`<script nonce="${opts.nonce}">${raw(opts.script)}</script>` : ''}
</body>
</html>
`
}

/** A page that only says something (sign-in refused, a refused form, not found). */
export function messagePage(
  nonce: string,
  title: string,
  message: string,
  link: { href: string; text: string },
) {
  return layout({
    title: `${title} · Steward portal`,
    nonce,
    heading: html`<h1>${title}</h1>`,
    body: html`<p class="error" role="alert">${message}</p><p><a href="${link.href}">${link.text}</a></p>`,
  })
}
