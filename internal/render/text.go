package render

import (
	"image/color"
	"unicode/utf8"

	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// The text face is basicfont.Face7x13. Its glyphs are rasterised once into
// plain alpha tables so that drawing text is a loop over bytes.
var face = basicfont.Face7x13

const (
	glyphW   = 6  // face.Width: inked columns of a glyph
	advance  = 7  // face.Advance
	glyphH   = 13 // face.Ascent + face.Descent
	ascent   = 11
	labelPad = 2 // pixels of background around label text
	// LineHeight is the height in pixels of one line of text, without
	// padding.
	LineHeight = glyphH
)

// glyphs holds the masks of runes 0x20..0x7e, then U+FFFD at index
// len-1, each glyphH rows of glyphW alpha bytes.
var glyphs [96][glyphH * glyphW]uint8

func init() {
	for i := range glyphs {
		r := rune(0x20 + i)
		if i == len(glyphs)-1 {
			r = utf8.RuneError
		}
		dr, mask, mp, _, _ := face.Glyph(fixed.P(0, ascent), r)
		if mask == nil {
			continue
		}
		for y := 0; y < glyphH && y < dr.Dy(); y++ {
			for x := 0; x < glyphW && x < dr.Dx(); x++ {
				_, _, _, a := mask.At(mp.X+x, mp.Y+y).RGBA()
				glyphs[i][y*glyphW+x] = uint8(a >> 8)
			}
		}
	}
}

func glyphFor(r rune) *[glyphH * glyphW]uint8 {
	if r >= 0x20 && r < 0x7f {
		return &glyphs[r-0x20]
	}
	return &glyphs[len(glyphs)-1]
}

// TextWidth is the width in pixels of s drawn in the overlay font (without
// label padding). Runes the font lacks draw as a replacement glyph of the
// same width.
func TextWidth(s string) int { return utf8.RuneCountInString(s) * advance }

// Text draws s with its top-left corner at (x, y) in fg, with no background.
// Text is clipped to the canvas.
func (c Canvas) Text(x, y int, s string, fg color.RGBA) {
	if !c.ok() {
		return
	}
	c.text(x, y, s, mkPaint(fg))
}

func (c Canvas) text(x, y int, s string, p paint) {
	if p.none || y >= c.H || y+glyphH <= 0 || x >= c.W {
		return
	}
	stride := c.W * 3
	gy0, gy1 := max(0, -y), min(glyphH, c.H-y)
	for _, r := range s {
		if x >= c.W {
			return
		}
		if x+glyphW > 0 && r != ' ' {
			g := glyphFor(r)
			gx0, gx1 := max(0, -x), min(glyphW, c.W-x)
			for gy := gy0; gy < gy1; gy++ {
				row := c.Pix[(y+gy)*stride:]
				for gx := gx0; gx < gx1; gx++ {
					a := g[gy*glyphW+gx]
					if a == 0 {
						continue
					}
					i := (x + gx) * 3
					q := p
					if a != 255 {
						q = p.scaled(uint32(a))
					}
					if q.opaque {
						row[i], row[i+1], row[i+2] = byte(q.r), byte(q.g), byte(q.b)
					} else {
						q.blend(row[i : i+3])
					}
				}
			}
		}
		x += advance
	}
}

// LabelSize is the width and height in pixels of the box Label draws for s.
func LabelSize(s string) (w, h int) {
	return TextWidth(s) + 2*labelPad, glyphH + 2*labelPad
}

// Label draws s in fg on a bg box whose top-left corner is at (x, y). The
// box is moved as needed to lie inside the canvas (if it is wider or taller
// than the canvas, it is aligned to the top-left corner and clipped). A bg
// with zero alpha draws no box.
func (c Canvas) Label(x, y int, s string, fg, bg color.RGBA) {
	if !c.ok() || s == "" {
		return
	}
	w, h := LabelSize(s)
	x = clampInt(x, 0, c.W-w)
	y = clampInt(y, 0, c.H-h)
	c.fill(x, y, x+w, y+h, mkPaint(bg))
	c.text(x+labelPad, y+labelPad, s, mkPaint(fg))
}

// clampInt limits v to [lo, hi], preferring lo when hi < lo.
func clampInt(v, lo, hi int) int {
	if v > hi {
		v = hi
	}
	if v < lo {
		v = lo
	}
	return v
}
