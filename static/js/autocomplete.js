// Autocomplete selects (tom-select, from npm): <select data-autocomplete="local|remote"> becomes a box that
// filters its options as the person types; arrows move, Enter picks, Escape closes. "remote" selects also ask
// data-autocomplete-url?q=… (JSON {"results": [{"value", "text"}]}, scoped to the merchant on the server),
// so a merchant with thousands of customers finds any of them, by whatever the server matches (e-mail,
// CPF/CNPJ, @handle), not only by the words of the label. The original <select> keeps the value and gets
// the change events, so htmx previews and recorrente.js's toggles work unchanged; without JavaScript (or
// without tom-select) the plain select stays. Markup attributes come from core.forms.autocomplete.
(function () {
  function remoteSettings(select) {
    var url = select.dataset.autocompleteUrl;
    // The values the server returned for each query: they match even when the label does not show why.
    var matched = {};
    return {
      valueField: "value",
      labelField: "text",
      searchField: ["text"],
      // No preload on focus: tom-select runs its focus handler a tick after the click, and a preload
      // started then cancels (its load is debounced) the query of someone who already typed, so the box
      // stayed empty. The options the page lists up front show on focus; typing asks the server.
      loadThrottle: 250,
      shouldLoad: function () { return true; },
      load: function (query, callback) {
        var box = this;
        fetch(url + "?q=" + encodeURIComponent(query), {
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        })
          .then(function (response) { return response.json(); })
          .then(function (payload) {
            var results = payload.results || [];
            matched[query] = new Set(results.map(function (item) { return String(item.value); }));
            callback(results);
            // An answer that arrives after the person picked an option (a slow server answering an
            // earlier query) reopens tom-select's dropdown over the next field: keep it closed.
            if (box.settings.mode === "single" && box.getValue() && box.inputValue() === "") { box.close(); }
          })
          .catch(function () { callback(); });
      },
      score: function (query) {
        var byLabel = this.getScoreFunction(query);
        var found = matched[query];
        return function (item) {
          if (found && found.has(String(item.value))) { return 1; }
          return byLabel(item);
        };
      },
    };
  }

  function setUp(select) {
    if (select.tomselect || !window.TomSelect) { return; }
    var settings = {
      maxOptions: 200,
      allowEmptyOption: false,
      // Tab moves on (to the next field) with the highlighted option picked, as in a native select.
      selectOnTab: true,
      // Filter on every key (tom-select waits 300 ms by default): typing a name and pressing Enter at once
      // must pick what was typed, not the option that was highlighted before. The server is asked at
      // most every loadThrottle ms.
      refreshThrottle: 0,
      // An optional choice (a salesperson) can be emptied again.
      plugins: select.required ? {} : { clear_button: { title: select.dataset.autocompleteClear || "" } },
      render: {
        no_results: function () {
          var box = document.createElement("div");
          box.className = "no-results";
          box.textContent = select.dataset.autocompleteNone || "";
          return box;
        },
        loading: function () {
          var box = document.createElement("div");
          box.className = "spinner-border spinner-border-sm m-2";
          box.setAttribute("role", "status");
          box.setAttribute("aria-label", select.dataset.autocompleteLoading || "");
          return box;
        },
      },
    };
    if (select.dataset.autocomplete === "remote" && select.dataset.autocompleteUrl) {
      Object.assign(settings, remoteSettings(select));
    }
    new TomSelect(select, settings);
  }

  function init(root) {
    if (!root.querySelectorAll) { return; }
    if (root.matches && root.matches("select[data-autocomplete]")) { setUp(root); }
    root.querySelectorAll("select[data-autocomplete]").forEach(setUp);
  }

  if (window.htmx) {
    htmx.onLoad(init);
  } else {
    document.addEventListener("DOMContentLoaded", function () { init(document.body); });
  }
})();
