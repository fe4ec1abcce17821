// Shows only the inputs the ticked services need, as the server does on
// 按所选服务更新表单: each input and section lists its services in data-needs
// ("*": always asked). Hidden inputs keep their values and are still sent.
(function () {
  function update(form) {
    var ticked = {};
    form.querySelectorAll('input[name="service"]').forEach(function (box) {
      if (box.checked) ticked[box.value] = true;
    });
    document.querySelectorAll("[data-needs]").forEach(function (el) {
      var needs = el.getAttribute("data-needs");
      el.hidden = needs !== "*" && !needs.split(" ").some(function (key) { return ticked[key]; });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var picker = document.getElementById("services");
    if (!picker) return;
    var form = picker.closest("form");
    var apply = document.getElementById("services-apply");
    if (apply) apply.hidden = true;   // the ticks act at once
    picker.addEventListener("change", function () { update(form); });
  });
})();
