// "Check installation" on a site's settings page: asks the server what arrived and shows
// its answer in place; first loads the tracker script itself, so that a blocker in this
// browser is named instead of looking like a missing snippet.
'use strict'
const box = document.getElementById('installation')
const button = document.getElementById('check-installation')
const status = document.getElementById('installation-status')

const show = (text, ok) => {
  status.textContent = text
  status.classList.toggle('jt-success-text', ok)
}

const check = async () => {
  show('Checking…', false)
  try {
    await fetch(box.dataset.script, { cache: 'no-store' })
  } catch {
    show(
      'This browser did not load the Jetrack script (' + box.dataset.script + '): an ad or ' +
        'privacy blocker? Visitors with such blockers are not counted. To test, open your ' +
        'site in a window without extensions.',
      false,
    )
    return
  }
  try {
    const answer = await fetch(box.dataset.url, { cache: 'no-store' })
    const body = await answer.json()
    show(answer.ok ? body.message : body.error, answer.ok && body.status === 'installed')
  } catch {
    show('The check did not get an answer from the server; try again.', false)
  }
}

if (box && button && status) {
  button.addEventListener('click', (event) => {
    event.preventDefault()
    check()
  })
}
