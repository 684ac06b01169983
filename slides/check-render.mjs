// check-render.mjs - open rendered slide decks in headless Chromium and check
// what a reader would see: every slide is there and nothing on it is cut
// off, every image loads, every local link (and its #anchor) resolves.
//
//   node check-render.mjs BUILD/DECK.html...
//
// Prints one line per deck ("DECK: N slides, I images, L links"), one line
// per problem ("DECK: slide 4: ..."), and exits 1 if there was a problem.
// Needs no network: external links are counted, never followed.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import puppeteer from 'puppeteer-core'

const chrome = process.env.CHROME_PATH || '/usr/bin/chromium'
const profile = mkdtempSync(join(process.env.TMPDIR || tmpdir(), 'slides-chromium-'))
let problems = 0

const browser = await puppeteer.launch({
	executablePath: chrome,
	headless: true,
	pipe: true,
	userDataDir: profile,
	args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
		'--disable-background-networking', '--disable-component-update',
		'--disable-sync', '--allow-file-access-from-files'],
})

// Does FILE (an HTML page) have an element with id ID?
const hasId = (file, id) =>
	readFileSync(file, 'utf8').includes(`id="${id}"`)

try {
	for (const arg of process.argv.slice(2)) {
		const file = resolve(arg)
		const name = arg.split('/').pop()
		const report = (what) => { problems++; console.log(`${name}: ${what}`) }
		const page = await browser.newPage()
		await page.setViewport({ width: 1280, height: 720 })
		page.on('pageerror', (e) => report(`script error: ${e.message}`))
		page.on('requestfailed', (r) => report(`cannot load ${r.url()}`))
		await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })

		const seen = await page.evaluate(async () => {
			const slides = [...document.querySelectorAll('svg[data-marpit-svg] > foreignObject > section')]
			const images = [...document.querySelectorAll('img')]
			await Promise.all(images.map((i) => i.decode().catch(() => {})))
			// Show each slide in turn, as a reader paging through would.
			const frame = () => new Promise((r) => requestAnimationFrame(() => r()))
			const shown = []
			for (let n = 0; n < slides.length; n++) {
				location.hash = `#${n + 1}`
				const s = slides[n]
				const svg = s.closest('svg')
				// bespoke.js switches slides on hashchange: give it up to ~1 s.
				for (let f = 0; f < 60 && !svg.classList.contains('bespoke-marp-active'); f++)
					await frame()
				await frame()
				const box = svg.getBoundingClientRect()
				shown.push({
					active: svg.classList.contains('bespoke-marp-active'),
					visible: box.width > 0 && box.height > 0,
					text: s.innerText.trim().length,
					// The section clips what does not fit: that is a cut slide.
					overflow: s.scrollHeight - s.clientHeight,
					// Wide tables and code scroll inside themselves instead.
					wide: [s, ...s.querySelectorAll('table, pre')]
						.filter((e) => e.scrollWidth - e.clientWidth > 2)
						.map((e) => e.tagName.toLowerCase()),
					images: s.querySelectorAll('img').length,
					// Marp shrinks a code block too wide for the slide (an SVG
					// in the shadow DOM of <marp-pre>): below 80 % it is hard to read.
					shrunk: [...s.querySelectorAll('marp-pre')].map((pre) => {
						const svg = pre.shadowRoot?.querySelector('marp-auto-scaling')
							?.shadowRoot?.querySelector('svg[data-marp-auto-scaling-svg]')
						const natural = svg?.viewBox.baseVal.width
						return natural ? svg.getBoundingClientRect().width / natural : 1
					}).filter((scale) => scale < 0.8).map((scale) => Math.round(scale * 100)),
				})
			}
			return {
				slides: shown,
				images: images.map((i) => ({
					src: i.getAttribute('src'), url: i.src,
					width: i.naturalWidth, height: i.naturalHeight,
				})),
				links: [...document.querySelectorAll('a[href]')].map((a) => ({
					href: a.getAttribute('href'), url: a.href,
				})),
			}
		})

		seen.slides.forEach((s, i) => {
			if (!s.active || !s.visible) report(`slide ${i + 1}: not shown when asked for (#${i + 1})`)
			if (s.text === 0 && s.images === 0) report(`slide ${i + 1}: empty`)
			if (s.overflow > 2) report(`slide ${i + 1}: ${s.overflow}px of content cut off at the bottom`)
			for (const tag of s.wide) report(`slide ${i + 1}: ${tag} too wide, cut off on the right`)
			for (const pct of s.shrunk) report(`slide ${i + 1}: a code block shrunk to ${pct}% to fit: shorten its lines`)
		})
		for (const img of seen.images) {
			if (!img.url.startsWith('file:')) report(`image ${img.src}: not a local file`)
			else if (img.width === 0 || img.height === 0) report(`image ${img.src}: does not load`)
		}
		let external = 0
		for (const link of seen.links) {
			if (/^(https?|mailto):/.test(link.url)) { external++; continue }
			const url = new URL(link.url)
			const target = fileURLToPath(url)
			if (url.protocol !== 'file:' || !existsSync(target)) {
				report(`link ${link.href}: no such file`)
			} else if (url.hash && !hasId(target, decodeURIComponent(url.hash.slice(1)))) {
				report(`link ${link.href}: no anchor ${url.hash} in ${target.split('/').pop()}`)
			}
		}
		console.log(`${name}: ${seen.slides.length} slides, ${seen.images.length} images, ` +
			`${seen.links.length} links (${external} external, not followed)`)
		await page.close()
	}
} finally {
	await browser.close()
	rmSync(profile, { recursive: true, force: true })
}
process.exit(problems ? 1 : 0)
