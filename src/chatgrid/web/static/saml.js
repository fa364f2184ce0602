// The SAML answer page (auth/saml_continue.html): post the identity provider's answer
// again from this site, so the sign-in cookie comes with it. Without JavaScript the
// page's Continue button does the same.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-autosubmit]");
  if (form) form.submit();
});
