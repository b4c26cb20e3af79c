// The console's stylesheet and script, compiled into the binary and served under /console/assets/.

enum ConsoleAssets {
    static let stylesheet = """
        :root { --fg: #1d2330; --muted: #5a6270; --bg: #ffffff; --panel: #f4f6f9; --line: #d5dae2; --accent: #1f5fbf;
          --ok: #1b7a3d; --bad: #b3261e; --warn: #8a5a00; --focus: #f5a623; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
          background: var(--bg); }
        a { color: var(--accent); }
        :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
        .skip { position: absolute; left: -999px; top: 0; background: var(--fg); color: #fff; padding: .5rem 1rem; }
        .skip:focus { left: 0; z-index: 10; }
        .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        header.top { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .75rem 1.5rem;
          background: #101828; color: #fff; }
        header.top a { color: #fff; text-decoration: none; margin-right: 1rem; }
        header.top a:hover { text-decoration: underline; }
        .brand { font-weight: 700; font-size: 1.15rem; }
        .signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
        .who { color: #cfd6e4; }
        nav.tabs { display: flex; flex-wrap: wrap; gap: .25rem; padding: .5rem 1.5rem 0; border-bottom: 1px solid var(--line);
          background: var(--panel); }
        nav.tabs a { padding: .5rem .75rem; text-decoration: none; border-radius: 6px 6px 0 0; }
        nav.tabs a[aria-current="page"] { background: var(--bg); border: 1px solid var(--line); border-bottom-color: var(--bg);
          font-weight: 600; }
        main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
        h1 { font-size: 1.6rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
        h2 { font-size: 1.2rem; margin-top: 2rem; }
        .lead { font-size: 1.1rem; color: var(--muted); overflow-wrap: anywhere; }
        svg.chart { display: block; width: 100%; height: auto; max-width: 960px; background: var(--bg);
          border: 1px solid var(--line); border-radius: 6px; }
        svg.spark { width: 160px; height: 36px; vertical-align: middle; }
        ul.trends { list-style: none; padding: 0; }
        ul.trends li { margin: .25rem 0; }
        main p code { overflow-wrap: anywhere; }
        .muted { color: var(--muted); }
        .bad { color: var(--bad); }
        .scroll { overflow-x: auto; position: relative; }
        table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
        caption { text-align: left; color: var(--muted); padding: .25rem 0; }
        th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top;
          overflow-wrap: anywhere; }
        th { background: var(--panel); font-weight: 600; overflow-wrap: normal; white-space: nowrap; }
        .scroll table { min-width: 40rem; }
        .scroll table.compact { min-width: 0; }
        table.compact th { white-space: normal; }
        tr.active td { background: #eef7f0; }
        .badge { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: var(--panel);
          border: 1px solid var(--line); font-size: .85rem; white-space: nowrap; }
        .badge.verified, .badge.ok { color: var(--ok); border-color: var(--ok); }
        .badge.failed { color: var(--bad); border-color: var(--bad); }
        .badge.pending { color: var(--warn); border-color: var(--warn); }
        .notice { background: #eef7f0; border-left: 4px solid var(--ok); padding: .75rem 1rem; }
        .error { background: #fdecea; border-left: 4px solid var(--bad); padding: .75rem 1rem; }
        .secret { background: #fff8e1; border-left: 4px solid var(--warn); padding: .5rem 1rem; }
        .placeholder { border: 2px dashed var(--line); border-radius: 8px; padding: 0 1rem; color: var(--muted); }
        .pre { white-space: pre-wrap; overflow-wrap: anywhere; }
        pre.code { background: #0f1720; color: #e6edf3; padding: 1rem; border-radius: 6px; overflow-x: auto;
          font: 14px/1.45 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; white-space: pre; }
        code { font-family: ui-monospace, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
        form.stack { display: flex; flex-direction: column; gap: .4rem; max-width: 100%; }
        form.narrow { max-width: 32rem; }
        form.row, div.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .5rem 0; }
        input, select, textarea, button, .button { font: inherit; padding: .4rem .6rem; border: 1px solid #8c95a3;
          border-radius: 6px; background: #fff; color: var(--fg); max-width: 100%; }
        textarea { width: 100%; font-family: ui-monospace, Menlo, Consolas, monospace; }
        button, .button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer;
          text-decoration: none; display: inline-block; }
        header.top button { background: transparent; border-color: #cfd6e4; }
        .actions { white-space: nowrap; }
        .actions .button { padding: .2rem .5rem; font-size: .9rem; }
        label.check { display: flex; gap: .4rem; align-items: center; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; }
        dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
        dl.meta dt { font-weight: 600; }
        dl.meta dd { margin: 0; overflow-wrap: anywhere; }
        details.panel { margin-top: 2rem; border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; }
        details.panel summary { cursor: pointer; font-weight: 600; }
        .pager a { margin-right: 1rem; }
        @media (max-width: 640px) {
          header.top { padding: .5rem 1rem; }
          main { padding: .75rem 1rem 2rem; }
          nav.tabs { padding: .25rem .5rem 0; }
          h1 { font-size: 1.3rem; }
          dl.meta { grid-template-columns: 1fr; }
          dl.meta dd { margin-bottom: .5rem; }
          .signout { margin-left: 0; }
          th, td { padding: .35rem .4rem; font-size: .92rem; }
          .actions { white-space: normal; }
        }
        """

    static let script = """
        "use strict";
        // Confirmation dialogs for forms that carry data-confirm (the server asks again without JavaScript).
        document.addEventListener("submit", function (event) {
          var form = event.target;
          var question = form.getAttribute("data-confirm");
          if (question && !window.confirm(question)) { event.preventDefault(); }
        });
        // The playground sends its form with fetch and shows the answer without leaving the page.
        document.addEventListener("DOMContentLoaded", function () {
          var form = document.getElementById("playground");
          if (!form) { return; }
          form.addEventListener("submit", function (event) {
            event.preventDefault();
            var output = document.getElementById("playground-response");
            var latency = document.getElementById("playground-latency");
            var body = new URLSearchParams(new FormData(form));
            var started = performance.now();
            output.textContent = "…";
            fetch(form.action, {
              method: "POST", body: body, credentials: "same-origin",
              headers: { "Accept": "application/json" }
            }).then(function (response) {
              return response.text().then(function (text) {
                var elapsed = performance.now() - started;
                var shown = text;
                try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch (ignored) {}
                output.textContent = shown;
                latency.textContent = response.status + " in " + elapsed.toFixed(1) + " ms (round trip)";
                latency.setAttribute("data-status", String(response.status));
              });
            }).catch(function (error) {
              output.textContent = String(error);
              latency.textContent = "the request failed";
            });
          });
        });
        """
}
