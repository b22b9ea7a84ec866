// Command tlog-verify checks Trailkeeper's Merkle proofs with Go's golang.org/x/mod/sumdb/tlog, an
// implementation of RFC 6962 trees that shares no code with Trailkeeper, so that the tests prove the proofs
// (and the documented leaf hashing) interoperate rather than agree with themselves.
//
// Input (stdin, JSON): the tenant's chain hashes in seq order (optional), inclusion proofs and consistency
// proofs as the API returns them. Output (stdout, JSON): one result per proof. Exit 1 if any proof is rejected.
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	LeafIndex int64       `json:"leafIndex"`
	TreeSize  int64       `json:"treeSize"`
	Hash      string      `json:"hash"`
	RootHash  tlog.Hash   `json:"rootHash"`
	Proof     []tlog.Hash `json:"proof"`
}

type consistency struct {
	From     int64       `json:"from"`
	To       int64       `json:"to"`
	FromRoot tlog.Hash   `json:"fromRoot"`
	ToRoot   tlog.Hash   `json:"toRoot"`
	Proof    []tlog.Hash `json:"proof"`
}

type input struct {
	Leaves      []string      `json:"leaves"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

type result struct {
	Kind  string `json:"kind"`
	Index int    `json:"index"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// memoryHashes is a tlog.HashReader over hashes stored in memory, built from the leaves alone.
type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

// buildTree stores every hash tlog keeps for the leaves, whose data is the 32-byte chain hash.
func buildTree(leaves []string) (memoryHashes, error) {
	var stored memoryHashes
	for i, l := range leaves {
		data, err := hex.DecodeString(l)
		if err != nil {
			return nil, err
		}
		hs, err := tlog.StoredHashes(int64(i), data, stored)
		if err != nil {
			return nil, err
		}
		stored = append(stored, hs...)
	}
	return stored, nil
}

// rootCheck compares a proof's root with the root tlog computes from the leaves, when they were given.
func rootCheck(tree memoryHashes, leaves int, size int64, root tlog.Hash) error {
	if tree == nil || size > int64(leaves) {
		return nil
	}
	want, err := tlog.TreeHash(size, tree)
	if err != nil {
		return err
	}
	if want != root {
		return fmt.Errorf("root of size %d is %s, tlog computes %s from the leaves", size, root, want)
	}
	return nil
}

func checkInclusion(tree memoryHashes, leaves int, p inclusion) error {
	data, err := hex.DecodeString(p.Hash)
	if err != nil {
		return err
	}
	if err := rootCheck(tree, leaves, p.TreeSize, p.RootHash); err != nil {
		return err
	}
	return tlog.CheckRecord(p.Proof, p.TreeSize, p.RootHash, p.LeafIndex, tlog.RecordHash(data))
}

func checkConsistency(tree memoryHashes, leaves int, p consistency) error {
	if err := rootCheck(tree, leaves, p.From, p.FromRoot); err != nil {
		return err
	}
	if err := rootCheck(tree, leaves, p.To, p.ToRoot); err != nil {
		return err
	}
	return tlog.CheckTree(p.Proof, p.To, p.ToRoot, p.From, p.FromRoot)
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	var tree memoryHashes
	if len(in.Leaves) > 0 {
		var err error
		if tree, err = buildTree(in.Leaves); err != nil {
			fmt.Fprintln(os.Stderr, "bad leaves:", err)
			os.Exit(2)
		}
	}
	var results []result
	add := func(kind string, i int, err error) {
		r := result{Kind: kind, Index: i, OK: err == nil}
		if err != nil {
			r.Error = err.Error()
		}
		results = append(results, r)
	}
	for i, p := range in.Inclusion {
		add("inclusion", i, checkInclusion(tree, len(in.Leaves), p))
	}
	for i, p := range in.Consistency {
		add("consistency", i, checkConsistency(tree, len(in.Leaves), p))
	}
	_ = json.NewEncoder(os.Stdout).Encode(results)
	for _, r := range results {
		if !r.OK {
			os.Exit(1)
		}
	}
}
