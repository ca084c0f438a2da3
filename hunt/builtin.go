package hunt

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

// builtinFS holds the built-in hunt pack: hunt documents in the seed's format.
//
//go:embed builtin/*.md
var builtinFS embed.FS

// Builtin returns the built-in hunt pack, sorted by ID. Each hunt's Path is
// "builtin:<file name>".
func Builtin() ([]*Hunt, error) {
	names, err := fs.Glob(builtinFS, "builtin/*.md")
	if err != nil {
		return nil, fmt.Errorf("hunt: builtin pack: %w", err)
	}
	var hunts []*Hunt
	for _, name := range names {
		src, err := builtinFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("hunt: builtin pack: %w", err)
		}
		h, err := ParseHunt("builtin:"+path.Base(name), src)
		if err != nil {
			return nil, fmt.Errorf("hunt: builtin pack %s: %w", name, err)
		}
		hunts = append(hunts, h)
	}
	sort.Slice(hunts, func(i, j int) bool { return hunts[i].ID < hunts[j].ID })
	return hunts, nil
}
