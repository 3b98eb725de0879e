/* The demo shop's own script: mounts both widgets with kassa.js and shows the callbacks. */
(function () {
  "use strict";
  var holder = document.getElementById("demo");
  if (!holder || !window.Kassa) return;

  function say(id, text) {
    var box = document.getElementById(id);
    box.textContent = text;
    box.hidden = false;
  }

  window.Kassa.mountPayment("#pay", {
    publicToken: holder.getAttribute("data-pay-token"),
    title: "Pay by card",
    onResult: function (result) {
      say("pay-result", "onResult: payment " + result.status + " (session " + result.session_id + ")");
    },
    onError: function (error) { say("pay-result", "onError: " + error.code + " — " + error.message); }
  });

  window.Kassa.mountTokenize("#tokenize", {
    publicToken: holder.getAttribute("data-tokenize-token"),
    title: "Add a card",
    onToken: function (card) {
      say("token-result", "onToken: " + card.brand + " •••• " + card.last4 + ", number_hash " + card.number_hash);
    },
    onError: function (error) { say("token-result", "onError: " + error.code + " — " + error.message); }
  });
})();
