// Command note-verify checks a signed note from stdin with a C2SP verifier key, using Go's
// golang.org/x/mod/sumdb/note: an off-the-shelf verifier, to prove Trailkeeper's checkpoints interoperate.
package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/mod/sumdb/note"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: note-verify <vkey> < note")
		os.Exit(2)
	}
	v, err := note.NewVerifier(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad verifier key:", err)
		os.Exit(2)
	}
	msg, err := io.ReadAll(os.Stdin)
	if err != nil {
		os.Exit(2)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rejected:", err)
		os.Exit(1)
	}
	fmt.Print(n.Text)
}
