// Marp CLI settings for the course slides (read by slides/Makefile).
//
// A section starts with a heading "## P.N Title"; its id (the anchor the TP
// links to, build/DECK.html#sP-N) comes from that number, so it does not
// change when a title is reworded.  Other headings get a plain ASCII slug.
const slugify = (text) => {
	const numbered = /^\s*(\d+)\.(\d+)\b/.exec(text)
	if (numbered) return `s${numbered[1]}-${numbered[2]}`
	return text
		.normalize('NFD')
		.replace(/[\u0300-\u036f]/g, '')
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, '-')
		.replace(/^-|-$/g, '')
}

export default {
	themeSet: ['theme/minidock.css'],
	// The PDF embeds the SVG diagrams of img/, read from the disk.
	allowLocalFiles: true,
	options: {
		slug: { slugifier: slugify },
		// Offline: no emoji images and no math fonts fetched from a CDN.
		emoji: { shortcode: false, unicode: false },
		math: false,
		// A line break in the source is not one on the slide: paragraphs
		// are wrapped at 80 columns in the Markdown.
		markdown: { breaks: false },
	},
}
