// "Check installation" on a site's settings page: asks the server what arrived and shows
// its answer in place; first loads the tracker script itself, so that a blocker in this
// browser is named instead of looking like a missing snippet.
'use strict'
const box = document.getElementById('installation')
const button = document.getElementById('check-installation')
const status = document.getElementById('installation-status')

const NONE_ATTEMPTS = 10
const NONE_RETRY_MS = 2000

const show = (text, ok) => {
  status.textContent = text
  status.classList.toggle('jt-success-text', ok)
}

let latest = 0 // a new check ends the one still asking again

const check = async () => {
  const mine = ++latest
  show('Checking…', false)
  try {
    await fetch(box.dataset.script, { cache: 'no-store' })
  } catch {
    if (mine !== latest) return
    show(
      'This browser did not load the Jetrack script (' + box.dataset.script + '): an ad or ' +
        'privacy blocker? Visitors with such blockers are not counted. To test, open your ' +
        'site in a window without extensions.',
      false,
    )
    return
  }
  // Events are stored a second or so after they arrive: a check made right after a visit
  // would say "none" for an installed snippet, so that answer is asked again for a while.
  for (let attempt = 1; ; attempt++) {
    let answer, body
    try {
      answer = await fetch(box.dataset.url, { cache: 'no-store' })
      body = await answer.json()
    } catch {
      if (mine !== latest) return
      show('The check did not get an answer from the server; try again.', false)
      return
    }
    if (mine !== latest) return
    if (answer.ok && body.status === 'none' && attempt < NONE_ATTEMPTS) {
      show(body.message + ' Still looking…', false)
      await new Promise((done) => setTimeout(done, NONE_RETRY_MS))
      if (mine !== latest) return
      continue
    }
    show(answer.ok ? body.message : body.error, answer.ok && body.status === 'installed')
    return
  }
}

if (box && button && status) {
  button.addEventListener('click', (event) => {
    event.preventDefault()
    check()
  })
}
