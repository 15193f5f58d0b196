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
