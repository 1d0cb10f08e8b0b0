// gomodproxy writes a Go module proxy directory (the GOPROXY=file:// layout)
// holding one version of one module, so Go users of an installed bpfl get
// the bindings with `go get` and no network:
//
//	go run mk/gomodproxy.go MODULE_DIR VERSION OUT_DIR
//
// writes OUT_DIR/<module path>/@v/{list,VERSION.info,VERSION.mod,VERSION.zip}.
// The zip holds every file under MODULE_DIR as <module>@<version>/<path>,
// the layout `go mod download` expects. Standard library only.
package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: gomodproxy MODULE_DIR VERSION OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "gomodproxy:", err)
		os.Exit(1)
	}
}

func run(dir, version, out string) error {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	m := regexp.MustCompile(`(?m)^module\s+(\S+)`).FindSubmatch(gomod)
	if m == nil {
		return fmt.Errorf("%s/go.mod has no module line", dir)
	}
	module := string(m[1])
	vdir := filepath.Join(out, filepath.FromSlash(module), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	files, err := moduleFiles(dir)
	if err != nil {
		return err
	}
	if err := writeZip(filepath.Join(vdir, version+".zip"), dir, module+"@"+version, files); err != nil {
		return err
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
	for name, data := range map[string][]byte{"list": []byte(version + "\n"), version + ".info": info, version + ".mod": gomod} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// moduleFiles lists the regular files of the module, sorted, skipping what
// a module zip may not hold (VCS directories, vendor/, nested modules).
func moduleFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			if rel != "." && (d.Name() == ".git" || d.Name() == "vendor" || exists(filepath.Join(p, "go.mod"))) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func writeZip(path, dir, prefix string, files []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		w, err := zw.Create(prefix + "/" + rel)
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
