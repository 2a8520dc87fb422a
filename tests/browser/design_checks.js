() => {
  const problems = [];
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.name ? '[name=' + el.name + ']' : '') + (el.className ? '.' + String(el.className).split(' ')[0] : '');
  const shown = el => el.getClientRects().length > 0;
  // Keyboard order follows the document: no positive tabindex, and the skip link comes first.
  const tabbable = [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]')]
    .filter(el => !el.disabled && el.tabIndex >= 0 && shown(el));
  for (const el of document.querySelectorAll('[tabindex]')) {
    if (el.tabIndex > 0) problems.push('positive tabindex on ' + describe(el));
  }
  const first = tabbable[0];
  if (!first || !first.classList.contains('govuk-skip-link')) {
    problems.push('the first focusable element is ' + (first ? describe(first) : 'missing') +
                  ', not the skip link');
  } else if (!document.getElementById(first.getAttribute('href').slice(1))) {
    problems.push('the skip link points at nothing');
  }
  // One h1, in main, before every form control in main.
  const h1s = document.querySelectorAll('h1');
  const main = document.querySelector('main');
  if (h1s.length !== 1) problems.push(h1s.length + ' h1 elements');
  if (!main) problems.push('no main element');
  if (h1s.length && main) {
    const h1 = h1s[0];
    if (!main.contains(h1)) problems.push('the h1 is outside main');
    for (const el of main.querySelectorAll('input:not([type=hidden]), select, textarea, button')) {
      if (!(h1.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        problems.push(describe(el) + ' comes before the h1');
      }
    }
  }
  // Labels and hints from the design system.
  for (const el of document.querySelectorAll('main input:not([type=hidden]):not([type=submit]), main select, main textarea')) {
    const labels = el.id ? [...document.querySelectorAll('label[for="' + el.id + '"]')] : [];
    if (labels.length !== 1) { problems.push(describe(el) + ' has ' + labels.length + ' labels'); continue; }
    const kind = el.type === 'radio' ? 'govuk-radios__label' :
                 el.type === 'checkbox' ? 'govuk-checkboxes__label' : 'govuk-label';
    if (!labels[0].classList.contains(kind)) problems.push(describe(el) + ' label is not .' + kind);
    if (!labels[0].textContent.trim()) problems.push(describe(el) + ' label is empty');
    if (el.type === 'radio' || el.type === 'checkbox') {
      const fieldset = el.closest('fieldset.govuk-fieldset');
      const legend = fieldset && fieldset.querySelector(':scope > legend.govuk-fieldset__legend');
      if (!legend || !legend.textContent.trim()) problems.push(describe(el) + ' is not in a fieldset with a legend');
    } else if (!el.closest('.govuk-form-group')) {
      problems.push(describe(el) + ' is not in a govuk-form-group');
    }
  }
  const described = new Set();
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby').split(/\s+/).filter(Boolean)) {
      const target = document.getElementById(id);
      if (!target) problems.push(describe(el) + ' is described by missing #' + id);
      else if (!target.textContent.trim()) problems.push(describe(el) + ' is described by empty #' + id);
      described.add(id);
    }
  }
  // (The character count's live status, added by its script, is not a hint.)
  for (const hint of document.querySelectorAll('main .govuk-hint:not(.govuk-character-count__status)')) {
    if (!hint.textContent.trim()) problems.push('empty hint ' + describe(hint));
    else if (!hint.id || !described.has(hint.id)) problems.push('hint not referenced by its field: ' + describe(hint));
  }
  // The language toggle: each link says which language it leads to, in that language.
  const toggle = document.querySelector('nav.app-language-toggle');
  const toggleLinks = toggle ? [...toggle.querySelectorAll('a')] : [];
  if (!toggle) problems.push('no language toggle');
  for (const a of toggleLinks) {
    const lang = a.getAttribute('lang'), hreflang = a.getAttribute('hreflang');
    const target = new URL(a.href).searchParams.get('lang');
    if (!lang || lang !== hreflang || lang !== target) {
      problems.push('language link ' + a.textContent.trim() + ' has lang=' + lang + ' hreflang=' + hreflang + ' for ?lang=' + target);
    }
    if (lang === document.documentElement.lang) problems.push('language link to the current language');
  }
  if (toggle && toggleLinks.length !== 1) problems.push(toggleLinks.length + ' links in the language toggle');
  return {
    problems,
    lang: document.documentElement.lang,
    title: document.title,
    errorSummary: !!document.querySelector('.govuk-error-summary'),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  };
}
