// A site's imports page: uploads the chosen file as the request body (with its upload
// progress), then polls the imports' JSON until none is queued or running, updating the
// progress bars, and reloads the page once an import is over. Its texts come translated
// in the form's data attributes.
'use strict'
const form = document.getElementById('import-upload')
const list = document.getElementById('import-list')
const status = document.getElementById('import-upload-status')

const say = (text) => {
  if (status) status.textContent = text
}

const upload = (file, kind) => {
  const data = form.dataset
  if (file.size > Number(data.cap)) {
    say(data.toolarge)
    return
  }
  const request = new XMLHttpRequest()
  const query = new URLSearchParams({ kind, name: file.name })
  request.open('POST', `${data.url}?${query}`)
  request.setRequestHeader('X-CSRF-Token', data.csrf)
  request.setRequestHeader('Content-Type', 'application/octet-stream')
  request.upload.addEventListener('progress', (event) => {
    if (event.lengthComputable) say(data.sending.replace('{percent}', String(Math.floor((event.loaded * 100) / event.total))))
  })
  request.addEventListener('load', () => {
    if (request.status === 201) {
      say(data.queued)
      window.setTimeout(() => window.location.reload(), 1500)
      return
    }
    let reason = String(request.status)
    try {
      reason = JSON.parse(request.responseText).error || reason
    } catch {}
    say(data.failed.replace('{reason}', reason))
  })
  request.addEventListener('error', () => say(data.failed.replace('{reason}', 'network')))
  request.send(file)
}

if (form) {
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const file = form.elements.file.files[0]
    if (!file) {
      say(form.dataset.nofile)
      return
    }
    upload(file, form.elements.kind.value)
  })
}

const busy = () => list && list.querySelector('[data-status="queued"], [data-status="running"]')

const poll = async () => {
  try {
    const answer = await fetch(list.dataset.url, { cache: 'no-store' })
    const body = await answer.json()
    for (const item of body.imports || []) {
      const row = list.querySelector(`[data-import="${item.id}"]`)
      if (!row) continue
      if (item.status !== row.dataset.status && (item.status === 'done' || item.status === 'failed')) {
        window.location.reload()
        return
      }
      const bar = row.querySelector('progress')
      const label = row.querySelector('[data-percent]')
      if (bar) bar.value = item.percent
      if (label) label.textContent = `${item.percent}%`
    }
  } catch {}
  window.setTimeout(poll, 1500)
}

if (busy()) window.setTimeout(poll, 1500)
