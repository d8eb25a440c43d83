"""Documents: Jinja2 templates -> HTML -> PDF (WeasyPrint), locked down and out of process.

- `formatting`: French dates, amounts and durations through Babel (exact code points);
- `render`: the Jinja2 environment (autoescape, strict undefined, package templates only)
  and the asset allow-list templates fill;
- `synthesis`: a case's document de synthèse as HTML, its render request and content hash;
- `fetcher`: the only URL fetcher WeasyPrint gets (``data:`` and packaged assets);
- `worker` / `pool`: WeasyPrint in separate, bounded, time-limited, recycled processes.

Importing this package imports none of them: WeasyPrint is loaded by the workers only.
"""
