// "Exportar CSV" and the other export links: a streamed CSV has no Content-Length, so until the file starts
// arriving the button says "Preparando exportação…". The click adds a random `download_token` to the URL;
// the export view sets it back in the cookie below on its response, which the browser stores as the
// download starts (the classic download-token technique); then the button returns to normal and the
// browser's own download bar shows the progress.
(function () {
  var COOKIE = "subscriber_export_download";
  var POLL_MS = 250;
  var GIVE_UP_MS = 5 * 60 * 1000;

  function cookieValue() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + COOKIE + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }

  function clearCookie() {
    document.cookie = COOKIE + "=; Max-Age=0; path=/; SameSite=Lax";
  }

  function indicatorFor(link) {
    if (link.classList.contains("btn")) { return link; }
    return document.querySelector('a.btn[data-export="current"]') || link;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-export][data-preparing-label]");
    if (!link || event.defaultPrevented || event.button !== 0) { return; }
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
    event.preventDefault();
    var indicator = indicatorFor(link);
    if (indicator.getAttribute("aria-busy") === "true") { return; }

    var token = Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("download_token", token);

    var original = indicator.innerHTML;
    indicator.setAttribute("aria-busy", "true");
    indicator.classList.add("disabled");
    indicator.innerHTML = '<span class="spinner-border spinner-border-sm" role="status" aria-hidden="true"></span> ';
    indicator.appendChild(document.createTextNode(link.dataset.preparingLabel));

    clearCookie();
    var started = Date.now();
    var timer = window.setInterval(function () {
      if (cookieValue() === token || Date.now() - started > GIVE_UP_MS) {
        window.clearInterval(timer);
        clearCookie();
        indicator.innerHTML = original;
        indicator.classList.remove("disabled");
        indicator.removeAttribute("aria-busy");
      }
    }, POLL_MS);
    window.location.assign(url.toString());
  });
})();
