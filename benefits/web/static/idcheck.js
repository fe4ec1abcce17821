// Checks ID and certificate numbers as they are typed (ISO 7064 MOD 11-2).
// The server checks again; this only saves the clerk a round trip.
(function () {
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";

  function checkCharacter(first17) {
    var total = 0;
    for (var i = 0; i < 17; i++) total += parseInt(first17[i], 10) * WEIGHTS[i];
    return CHECK[total % 11];
  }

  function validDate(y, m, d) {
    var date = new Date(Date.UTC(y, m - 1, d));
    return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
  }

  function idError(value) {
    if (value.length !== 18) return "身份证号码应为18位，实际为" + value.length + "位";
    if (!/^\d{17}[\dX]$/.test(value)) return "身份证号码前17位应为数字，末位为数字或X";
    var y = +value.slice(6, 10), m = +value.slice(10, 12), d = +value.slice(12, 14);
    if (!validDate(y, m, d)) return "身份证号码中的出生日期" + value.slice(6, 14) + "不是有效日期";
    var expected = checkCharacter(value.slice(0, 17));
    if (expected !== value[17]) return "身份证号码校验位错误：应为" + expected + "，实际为" + value[17];
    return "";
  }

  function certError(value) {
    var match = /^(\d{17}[\dX])([1-7])([1-4])(B[1-9])?$/.exec(value);
    if (!match) return "残疾人证号应为20位：18位身份证号＋1位类别（1–7）＋1位等级（1–4），可带B1–B9后缀";
    return idError(match[1]);
  }

  function check(input) {
    var value = input.value.trim().toUpperCase();
    var message = value === "" ? "" : (input.dataset.check === "id" ? idError(value) : certError(value));
    var slot = document.querySelector('.error.live[data-for="' + input.id + '"]');
    if (slot) slot.textContent = message;
    input.setAttribute("aria-invalid", message ? "true" : "false");
    input.classList.toggle("invalid", !!message);
    if (input.dataset.check !== "id" && value && !message) fillFromCertificate(value);
  }

  // Digits 19 and 20 of the certificate number are its category and grade.
  function fillFromCertificate(value) {
    var pairs = [["f-certificate-category", value[18]], ["f-certificate-grade", value[19]]];
    for (var i = 0; i < pairs.length; i++) {
      var select = document.getElementById(pairs[i][0]);
      if (select && select.value === "") select.value = pairs[i][1];
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var inputs = document.querySelectorAll("input[data-check]");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].addEventListener("input", function (e) { check(e.target); });
      // on a page the server already marked, its message stands alone
      if (inputs[i].value && !inputs[i].closest(".has-error")) check(inputs[i]);
    }
  });
  window.benefitsIdError = idError;  // exposed for the browser test
})();
