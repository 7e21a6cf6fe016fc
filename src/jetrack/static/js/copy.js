// Copy buttons: <button class="jt-copy" data-copy="ID" hidden> copies the text of #ID.
// A file of its own because the pages' CSP allows no inline script; hidden until this
// runs, so a browser without scripts shows no dead button.
'use strict'
document.querySelectorAll('button.jt-copy').forEach((button) => {
  const source = document.getElementById(button.dataset.copy || '')
  if (!source || !navigator.clipboard) return
  const label = button.textContent
  button.hidden = false
  button.addEventListener('click', () => {
    navigator.clipboard.writeText(source.textContent.trim()).then(
      () => { button.textContent = 'Copied' },
      () => { button.textContent = 'Select and copy by hand' },
    )
    setTimeout(() => { button.textContent = label }, 2000)
  })
})
