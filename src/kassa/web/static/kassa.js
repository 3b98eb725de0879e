/* kassa.js — embed kassa's card widgets in your page. Vanilla JS, no build step, no
 * dependencies; load it from your kassa server:
 *
 *   <script src="https://kassa.example/widget/kassa.js"></script>
 *
 *   Kassa.mountTokenize(el, {publicToken, onToken, onError})
 *     onToken({number_hash, brand, last4})   the card is in kassa's vault; pay out with
 *                                             {"type": "encrypted_card", "encrypted_card":
 *                                             {"number_hash": …}}
 *   Kassa.mountPayment(el, {publicToken, onResult, onError})
 *     onResult({status, session_id, redirect_url?})   status: "succeeded" or "failed";
 *                                             without onResult the page goes to redirect_url
 *   onError({code, message})                  the token is unknown, expired or used, or too
 *                                             many attempts were made
 *
 * ``el`` is an element or a CSS selector. Each call returns {iframe, destroy()}. Messages are
 * accepted only from this kassa origin and from the widget's own frame.
 */
(function (global) {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : global.location.origin;

  function element(el) {
    var found = typeof el === "string" ? document.querySelector(el) : el;
    if (!found) throw new Error("Kassa: no element " + el);
    return found;
  }

  function call(fn, value) {
    if (typeof fn === "function") fn(value);
  }

  function mount(el, path, options, handle) {
    if (!options || !options.publicToken) throw new Error("Kassa: publicToken is required");
    var host = element(el);
    var frame = document.createElement("iframe");
    frame.src = base + path + "?public_token=" + encodeURIComponent(options.publicToken) + "&embed=1";
    frame.title = options.title || "Card details";
    frame.style.width = "100%";
    frame.style.height = "32rem";
    frame.style.border = "0";
    frame.style.display = "block";
    function listener(event) {
      if (event.origin !== base || event.source !== frame.contentWindow) return;
      var data = event.data;
      if (!data || data.source !== "kassa") return;
      if (data.type === "kassa:resize") {
        frame.style.height = Math.ceil(data.height) + "px";
      } else if (data.type === "kassa:error") {
        call(options.onError, { code: data.code, message: data.message });
      } else {
        handle(data);
      }
    }
    global.addEventListener("message", listener);
    host.appendChild(frame);
    return {
      iframe: frame,
      destroy: function () {
        global.removeEventListener("message", listener);
        if (frame.parentNode) frame.parentNode.removeChild(frame);
      }
    };
  }

  global.Kassa = {
    version: "1",
    mountTokenize: function (el, options) {
      return mount(el, "/widget/tokenize", options, function (data) {
        if (data.type === "kassa:token") {
          call(options.onToken, { number_hash: data.number_hash, brand: data.brand, last4: data.last4 });
        }
      });
    },
    mountPayment: function (el, options) {
      return mount(el, "/widget/pay", options, function (data) {
        if (data.type !== "kassa:result") return;
        var result = { status: data.status, session_id: data.session_id };
        if (data.redirect_url) result.redirect_url = data.redirect_url;
        if (typeof options.onResult === "function") options.onResult(result);
        else if (data.redirect_url) global.location.assign(data.redirect_url);
      });
    }
  };
})(window);
