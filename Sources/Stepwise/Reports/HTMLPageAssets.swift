import Crypto
import Foundation

/// index.html's style sheet and script, inline (the page loads nothing from anywhere).
enum HTMLPageAssets {
    /// Light by default, dark from the user's setting; the inline figures follow through their classes.
    static let css = """
        :root{--bg:#fff;--fg:#1d1f23;--muted:#5c6370;--line:#d8dbe0;--card:#f5f6f8;--accent:#0b62c4;--ok:#1a7f37;--bad:#c62828;--unsure:#8a6100;color-scheme:light dark}
        @media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e4e6ea;--muted:#a2a8b3;--line:#363a42;--card:#1e2127;--accent:#6cb0ff;--ok:#4cc265;--bad:#ff6b63;--unsure:#e0b341}
        .fig svg .bg{fill:var(--card)}.fig svg text:not([fill]){fill:var(--fg)}.fig svg .ax{stroke:var(--muted)}.fig svg .grid{stroke:#30343b}.fig svg .ref{stroke:#c8ccd2}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        main,header{max-width:1180px;margin:0 auto;padding:0 18px}
        header{padding-top:18px}
        h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}h3{font-size:1.05em;margin:1.2em 0 .4em}
        a{color:var(--accent)}
        .meta{color:var(--muted);margin:.2em 0 .8em}
        nav{display:flex;flex-wrap:wrap;gap:4px 14px;padding:8px 0;border-bottom:1px solid var(--line)}
        .banner{border-left:4px solid var(--unsure);background:var(--card);padding:8px 12px;margin:12px 0}
        .table-wrap{overflow-x:auto;margin:8px 0}
        table{border-collapse:collapse;font-variant-numeric:tabular-nums}
        th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        th{background:var(--card);font-weight:600;white-space:nowrap}
        td.num,th.num{text-align:right;white-space:nowrap}
        table.sortable th{cursor:pointer;user-select:none}
        th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
        .note{color:var(--muted);font-size:.92em;max-width:80ch}
        .fig{margin:12px 0;overflow-x:auto}
        .fig svg{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
        .fig figcaption{color:var(--muted);font-size:.9em;margin-top:4px}
        @media (max-width:700px){.fig svg{max-width:none}main,header{padding:0 10px}body{font-size:14px}}
        .verdict{display:inline-block;min-width:7.5em;text-align:center;border-radius:10px;padding:0 8px;font-size:.85em;font-weight:600;color:#fff}
        .verdict.reproduced{background:var(--ok)}.verdict.contradicted{background:var(--bad)}.verdict.inconclusive{background:var(--unsure)}
        ul.claims{list-style:none;padding:0}ul.claims>li{margin:10px 0}ul.claims ul{margin:4px 0;color:var(--muted);font-size:.92em}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;overflow-wrap:anywhere}
        details{border:1px solid var(--line);border-radius:6px;background:var(--card);padding:6px 12px;margin:8px 0}
        details>summary{cursor:pointer;font-weight:600}
        details[open]>summary{margin-bottom:6px}
        pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);border:1px solid var(--line);border-radius:4px;padding:6px 8px;margin:2px 0 8px;font-size:13px}
        .sample{border-top:1px solid var(--line);padding-top:6px;margin-top:8px}
        .sample dt{color:var(--muted);font-size:.85em}.sample dd{margin:0}
        .right{color:var(--ok);font-weight:600}.wrong{color:var(--bad);font-weight:600}.unparsed{color:var(--unsure);font-weight:600}
        .toggle{font:inherit;font-size:.85em;margin-left:8px;padding:1px 8px;border:1px solid var(--line);border-radius:4px;background:var(--card);color:var(--fg);cursor:pointer}
        footer{max-width:1180px;margin:30px auto;padding:10px 18px;color:var(--muted);font-size:.85em;border-top:1px solid var(--line)}
        """

    /// Sorting by column (numbers by their `data-value`) and expand/collapse-all buttons, which
    /// stay hidden without JavaScript (the page reads the same without them).
    static let script = """
        (function(){
        function key(c){var v=c.getAttribute('data-value');if(v!==null){return v===''?null:parseFloat(v);}return c.textContent.trim().toLowerCase();}
        document.querySelectorAll('table.sortable').forEach(function(t){
        var heads=t.tHead.rows[0].cells;
        Array.prototype.forEach.call(heads,function(th,i){
        th.tabIndex=0;th.title='Sort by this column';
        function sort(){var up=th.getAttribute('aria-sort')!=='ascending';
        Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',up?'ascending':'descending');
        var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);if(x===y){return 0;}if(x===null){return 1;}if(y===null){return -1;}return (x<y?-1:1)*(up?1:-1);});
        rows.forEach(function(r){body.appendChild(r);});}
        th.addEventListener('click',sort);
        th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
        });});
        document.querySelectorAll('button.toggle').forEach(function(b){
        var all=document.querySelectorAll('#'+b.getAttribute('data-section')+' details');
        function closed(){return Array.prototype.some.call(all,function(d){return !d.open;});}
        function label(){b.textContent=closed()?'expand all':'collapse all';}
        if(!all.length){return;}
        b.hidden=false;label();
        b.addEventListener('click',function(){var open=closed();all.forEach(function(d){d.open=open;});label();});
        all.forEach(function(d){d.addEventListener('toggle',label);});
        });
        })();
        """

    /// Exactly what goes between `<script>` and `</script>` (the hash covers every byte of it).
    static var scriptElement: String { "\n" + script + "\n" }

    /// The Content-Security-Policy: nothing may load from anywhere, and only this page's own
    /// script may run (by its hash), so an escaping bug could still not execute injected script.
    static var contentSecurityPolicy: String {
        let digest = Data(SHA256.hash(data: Data(scriptElement.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-\(digest)'"
    }
}
