/* kassa widget page script (no inline code, no dependencies).
 *
 * On the card form: formats the number as it is typed, names the brand, checks the Luhn digit
 * live, formats MM/YY, and checks every field before the form is sent (kassa checks again).
 * On every widget page inside a frame: hands the page's result to the embedding page by
 * postMessage, to the project's allowed origins only, and reports the page height.
 */
(function () {
  "use strict";

  // Same table as kassa/domain/card.py (first match wins).
  var BRANDS = [
    ["amex", [[34, 34], [37, 37]]],
    ["jcb", [[3528, 3589]]],
    ["diners", [[300, 305], [36, 36], [38, 39]]],
    ["discover", [[6011, 6011], [644, 649], [65, 65]]],
    ["mir", [[2200, 2204]]],
    ["mastercard", [[51, 55], [2221, 2720]]],
    ["unionpay", [[62, 62]]],
    ["maestro", [[50, 50], [56, 58], [6, 6]]],
    ["visa", [[4, 4]]]
  ];
  var NAMES = {
    amex: "American Express", jcb: "JCB", diners: "Diners Club", discover: "Discover",
    mir: "Mir", mastercard: "Mastercard", unionpay: "UnionPay", maestro: "Maestro", visa: "Visa"
  };

  function brandOf(digits) {
    for (var i = 0; i < BRANDS.length; i++) {
      var ranges = BRANDS[i][1];
      for (var j = 0; j < ranges.length; j++) {
        var width = String(ranges[j][0]).length;
        if (digits.length < width) continue;
        var prefix = parseInt(digits.slice(0, width), 10);
        if (prefix >= ranges[j][0] && prefix <= ranges[j][1]) return BRANDS[i][0];
      }
    }
    return null;
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = digits.charCodeAt(digits.length - 1 - i) - 48;
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function expectedLength(brand) {
    return brand === "amex" ? 15 : brand === "diners" ? 14 : 16;
  }

  function group(digits, brand) {
    var sizes = brand === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], at = 0;
    for (var i = 0; i < sizes.length && at < digits.length; i++) {
      out.push(digits.slice(at, at + sizes[i]));
      at += sizes[i];
    }
    return out.join(" ");
  }

  function onlyDigits(text) { return text.replace(/\D/g, ""); }

  // Rewrites an input's value, keeping the caret after the same number of digits.
  function rewrite(input, value) {
    var caret = input.selectionStart === null ? input.value.length : input.selectionStart;
    var before = onlyDigits(input.value.slice(0, caret)).length;
    input.value = value;
    var i = 0, seen = 0;
    while (i < value.length && seen < before) { if (/\d/.test(value[i])) seen++; i++; }
    if (document.activeElement === input) input.setSelectionRange(i, i);
  }

  function setupForm(form) {
    var messages = JSON.parse(form.getAttribute("data-messages") || "{}");
    var number = form.querySelector("#number");
    var expiry = form.querySelector("#expiry");
    var cvc = form.querySelector("#cvc");
    var name = form.querySelector("#cardholder_name");
    var brandLabel = form.querySelector("[data-kassa-brand]");
    var submit = form.querySelector("button[type=submit]");

    function show(input, problem) {
      var box = document.getElementById(input.id + "-error");
      var text = problem ? messages[input.id + "." + problem] || "" : "";
      if (box) box.textContent = text;
      if (problem) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
      return !problem;
    }

    function numberProblem(final) {
      var digits = onlyDigits(number.value);
      if (!digits) return final ? "required" : null;
      if (number.value.replace(/[\d ]/g, "")) return "digits";
      var complete = digits.length >= expectedLength(brandOf(digits));
      if (!final && !complete) return null;
      if (digits.length < 12 || digits.length > 19) return "digits";
      return luhn(digits) ? null : "luhn";
    }

    function expiryProblem() {
      var found = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(expiry.value);
      if (!expiry.value.trim()) return "required";
      if (!found || +found[1] < 1 || +found[1] > 12) return "format";
      var year = 2000 + +found[2].slice(-2), month = +found[1], now = new Date();
      if (year < now.getFullYear() || (year === now.getFullYear() && month < now.getMonth() + 1)) {
        return "past";
      }
      return null;
    }

    function cvcProblem() {
      if (!cvc.value) return "required";
      return /^\d{3,4}$/.test(cvc.value) ? null : "format";
    }

    function nameProblem() {
      return name.required && !name.value.trim() ? "required" : null;
    }

    number.addEventListener("input", function () {
      var digits = onlyDigits(number.value).slice(0, 19);
      var brand = brandOf(digits);
      rewrite(number, group(digits, brand));
      if (brandLabel) {
        brandLabel.textContent = brand ? NAMES[brand] : brandLabel.getAttribute("data-unknown");
      }
      show(number, numberProblem(false));
    });
    number.addEventListener("blur", function () { if (number.value) show(number, numberProblem(true)); });

    expiry.addEventListener("input", function () {
      var digits = onlyDigits(expiry.value).slice(0, 4);
      if (digits.length === 1 && digits > "1") digits = "0" + digits;
      rewrite(expiry, digits.length > 2 ? digits.slice(0, 2) + "/" + digits.slice(2) : digits);
      if (digits.length === 4) show(expiry, expiryProblem());
    });
    expiry.addEventListener("blur", function () { if (expiry.value) show(expiry, expiryProblem()); });

    if (cvc) {
      cvc.addEventListener("input", function () { cvc.value = onlyDigits(cvc.value).slice(0, 4); });
    }

    form.addEventListener("submit", function (event) {
      var checks = [[number, numberProblem(true)], [expiry, expiryProblem()]];
      if (cvc) checks.push([cvc, cvcProblem()]);
      checks.push([name, nameProblem()]);
      var first = null;
      for (var i = 0; i < checks.length; i++) {
        if (!show(checks[i][0], checks[i][1]) && !first) first = checks[i][0];
      }
      if (first) {
        event.preventDefault();
        first.focus();
        return;
      }
      if (submit.disabled) { event.preventDefault(); return; }  // one post per click
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
    });
    window.addEventListener("pageshow", function () {  // back button: the form works again
      submit.disabled = false;
      submit.removeAttribute("aria-busy");
    });
  }

  function setupFrame() {
    var holder = document.getElementById("kassa-frame");
    if (!holder || window.parent === window) return;
    var origins = JSON.parse(holder.getAttribute("data-origins") || "[]").map(function (o) {
      return o === "'self'" ? window.location.origin : o;
    });
    function tell(message) {
      for (var i = 0; i < origins.length; i++) window.parent.postMessage(message, origins[i]);
    }
    var text = holder.getAttribute("data-message");
    if (text) tell(JSON.parse(text));
    function size() {
      var height = Math.ceil(document.body.getBoundingClientRect().height);
      tell({ source: "kassa", type: "kassa:resize", height: height });
    }
    size();
    if (window.ResizeObserver) new ResizeObserver(size).observe(document.body);
  }

  var form = document.querySelector("[data-kassa-card-form]");
  if (form) setupForm(form);
  setupFrame();
})();
