// Initialise the NHS.UK frontend components (header menu, error summary focus, ...).
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

initAll()

// The "scroll sideways" cue stays only where its table really overflows (without script
// it always shows, which is harmless).
const cues = [...document.querySelectorAll('[data-scroll-cue]')]
function updateCues () {
  for (const cue of cues) {
    const box = cue.nextElementSibling
    if (box) cue.hidden = box.scrollWidth <= box.clientWidth
  }
}
updateCues()
window.addEventListener('resize', updateCues)

// A link to an expander (a profile's element) opens it, on arrival and on a later click.
function openTarget () {
  const target = window.location.hash && document.getElementById(window.location.hash.slice(1))
  if (target && target.tagName === 'DETAILS') target.open = true
}
openTarget()
window.addEventListener('hashchange', openTarget)
