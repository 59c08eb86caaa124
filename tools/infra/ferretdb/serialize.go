package main

// FerretDB v1 applies an update as read-document → modify in Go → write-document, with nothing
// holding the document in between. Two concurrent updates of one document therefore lose one
// of the two (measured: 200 concurrent {$inc: {n: 1}} on one document left n = 14). MongoDB
// guarantees every single-document write is atomic, and Yiyang's outbox, ledger and state
// machines are built on exactly that guarantee. So clients do not talk to FerretDB directly:
// this proxy sits in front and runs the commands that read before they write one at a time
// per collection. What each command takes:
//   - update, delete, findAndModify: the lock of their collection (db + name). They read the
//     documents they match and write them back; nothing else may write that collection in
//     between, so no update is lost and a delete never removes a document changed after it matched.
//   - insert: no collection lock. It reads nothing; a duplicate _id or unique key is refused by
//     SQLite's own index whatever the interleaving, exactly as MongoDB refuses it.
//   - create/drop/index and other catalogue commands: everything, alone (the writer side of
//     `catalogue`), because FerretDB changes its metadata and tables under them.
//   - reads of data (find, getMore, aggregate, count, …): the shared catalogue lock only. They run
//     in parallel with each other and with every write (each SQLite statement is atomic, so a
//     reader sees a document before or after a write, never half of it), but not with a drop: a
//     find still reading a database that dropDatabase deleted under it, while the next write
//     created the database again under the same name, crashed the whole server (SIGBUS: the new
//     file's shared-memory index was truncated under the old reader's mapping; seen in CI).
// Handshakes and server commands (hello, ping, …) take nothing, so a driver's monitoring never
// waits behind an index build. Inside FerretDB, writes to one database
// file still meet at one mutex (the fsql patch in infra.mjs), but only for the SQL itself: the
// decoding, matching and encoding around it (most of a bulk insert's CPU, pprof) now overlap,
// and writers to different databases (services, test files) no longer wait for each other.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

const (
	opMsg          = 2013
	flagMoreToCome = 1 << 1
	maxMessage     = 48 * 1024 * 1024
	// A write that holds the lock longer than this is stuck, not slow (the largest legitimate
	// write, a 1,000-document insertMany, takes about a second). Seen: a connection whose leaked
	// cursors had taken all 100 SQLite connections of its database waited for a 101st forever,
	// and with it every writer on the machine. Dropping that connection turns a global stall into
	// one failed command the client sees.
	writeStallLimit = 60 * time.Second
	// A read holds only the shared lock, so it stalls nobody but a waiting drop or index build (and,
	// behind that, the commands queued after it); a legitimate read can take longer than a write.
	readStallLimit = 5 * time.Minute
)

type lockClass int

const (
	noLock         lockClass = iota // handshakes and server commands that touch no database
	readLock                        // shared catalogue lock only, cut off after readStallLimit
	insertLock                      // shared catalogue lock only
	collectionLock                  // shared catalogue lock + the collection's lock
	catalogueLock                   // exclusive catalogue lock
)

var writeCommands = map[string]lockClass{
	"insert": insertLock,
	"update": collectionLock, "delete": collectionLock, "findAndModify": collectionLock, "findandmodify": collectionLock,
	"create": catalogueLock, "createIndexes": catalogueLock, "drop": catalogueLock, "dropDatabase": catalogueLock,
	"dropIndexes": catalogueLock, "renameCollection": catalogueLock, "collMod": catalogueLock,
}

var readCommands = map[string]bool{
	"find": true, "getMore": true, "aggregate": true, "count": true, "distinct": true,
	"listCollections": true, "listIndexes": true, "listDatabases": true, "collStats": true,
	"dbStats": true, "dataSize": true, "explain": true, "validate": true,
}

// collectionStripes: collections map onto a fixed set of mutexes by hash, so the proxy keeps no
// per-collection state however many test databases come and go; two collections that share a
// stripe only lose some parallelism, never correctness.
const collectionStripes = 256

type serializingProxy struct {
	backend     string // FerretDB's unix socket
	catalogue   sync.RWMutex
	collections [collectionStripes]sync.Mutex
	logger      *slog.Logger
}

// lock takes what the command needs and returns the function that releases it.
func (p *serializingProxy) lock(class lockClass, namespace string) func() {
	switch class {
	case readLock, insertLock:
		p.catalogue.RLock()
		return p.catalogue.RUnlock
	case collectionLock:
		if namespace == "" { // not a shape we can read: be safe, run alone
			break
		}
		p.catalogue.RLock()
		h := fnv.New32a()
		_, _ = h.Write([]byte(namespace))
		stripe := &p.collections[h.Sum32()%collectionStripes]
		stripe.Lock()
		return func() {
			stripe.Unlock()
			p.catalogue.RUnlock()
		}
	}
	p.catalogue.Lock()
	return p.catalogue.Unlock
}

func (p *serializingProxy) serve(l net.Listener) error {
	for {
		client, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go p.handle(client)
	}
}

func (p *serializingProxy) handle(client net.Conn) {
	defer client.Close()
	backend, err := net.Dial("unix", p.backend)
	if err != nil {
		p.logger.Error("proxy cannot reach FerretDB", "error", err)
		return
	}
	defer backend.Close()
	for {
		request, err := readMessage(client)
		if err != nil {
			return // client closed (or sent garbage): drop the connection, as mongod would
		}
		opCode := int32(binary.LittleEndian.Uint32(request[12:16]))
		expectsReply := true
		class := noLock
		var name, namespace string
		if opCode == opMsg && len(request) >= 20 {
			flags := binary.LittleEndian.Uint32(request[16:20])
			expectsReply = flags&flagMoreToCome == 0
			name, namespace = commandTarget(request[20:])
			class = writeCommands[name]
			if class == noLock && readCommands[name] {
				class = readLock
			}
		}
		if class != noLock {
			unlock := p.lock(class, namespace)
			limit := writeStallLimit
			if class == readLock {
				limit = readStallLimit
			}
			watchdog := time.AfterFunc(limit, func() {
				p.logger.Error("command stalled holding a lock; dropping its connection so others can go on",
					"command", name, "namespace", namespace, "limit", limit.String())
				_ = backend.Close()
			})
			err = roundTrip(client, backend, request, expectsReply)
			watchdog.Stop()
			unlock()
		} else {
			err = roundTrip(client, backend, request, expectsReply)
		}
		if err != nil {
			return
		}
	}
}

func roundTrip(client, backend net.Conn, request []byte, expectsReply bool) error {
	if _, err := backend.Write(request); err != nil {
		return err
	}
	if !expectsReply {
		return nil
	}
	reply, err := readMessage(backend)
	if err != nil {
		return err
	}
	_, err = client.Write(reply)
	return err
}

func readMessage(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int(int32(binary.LittleEndian.Uint32(header[0:4])))
	if length < 16 || length > maxMessage {
		return nil, errors.New("bad message length")
	}
	message := make([]byte, length)
	copy(message, header[:])
	if _, err := io.ReadFull(r, message[16:]); err != nil {
		return nil, err
	}
	return message, nil
}

// commandTarget reads the OP_MSG body section (kind 0): its first key names the command, and for
// insert/update/delete/findAndModify that key's string value is the collection; "$db" names the
// database. namespace is "" when either is missing or the body is not a shape this reader knows,
// and the caller then takes the exclusive lock.
func commandTarget(sections []byte) (name, namespace string) {
	for len(sections) > 0 {
		kind := sections[0]
		sections = sections[1:]
		if len(sections) < 4 {
			return "", ""
		}
		size := int(int32(binary.LittleEndian.Uint32(sections[0:4])))
		if size < 5 || size > len(sections) {
			return "", ""
		}
		if kind == 0 {
			return bodyTarget(sections[:size])
		}
		sections = sections[size:] // kind 1: a document sequence, skipped whole
	}
	return "", ""
}

func bodyTarget(doc []byte) (name, namespace string) {
	var collection, db string
	pos := 4
	for first := true; pos < len(doc)-1; first = false {
		kind := doc[pos]
		end := bytes.IndexByte(doc[pos+1:], 0)
		if end < 0 {
			return name, ""
		}
		key := string(doc[pos+1 : pos+1+end])
		pos += 2 + end
		if first {
			name = key
		}
		n := bsonValueSize(kind, doc[pos:])
		if n < 0 || pos+n > len(doc) {
			return name, ""
		}
		if kind == 0x02 && (first || key == "$db") { // string: int32 length (with NUL), bytes, NUL
			s := string(doc[pos+4 : pos+n-1])
			if first {
				collection = s
			} else {
				db = s
			}
		}
		pos += n
	}
	if collection == "" || db == "" {
		return name, ""
	}
	return name, db + "." + collection
}

// bsonValueSize is the encoded size of a BSON value of the given type at the start of b, or -1.
func bsonValueSize(kind byte, b []byte) int {
	int32At := func(off int) int {
		if len(b) < off+4 {
			return -1
		}
		return int(int32(binary.LittleEndian.Uint32(b[off : off+4])))
	}
	switch kind {
	case 0x06, 0x0A, 0x7F, 0xFF: // undefined, null, max key, min key
		return 0
	case 0x08: // bool
		return 1
	case 0x10: // int32
		return 4
	case 0x01, 0x09, 0x11, 0x12: // double, datetime, timestamp, int64
		return 8
	case 0x07: // ObjectId
		return 12
	case 0x13: // decimal128
		return 16
	case 0x02, 0x0D, 0x0E: // string, JavaScript, symbol
		if n := int32At(0); n >= 1 {
			return 4 + n
		}
	case 0x03, 0x04, 0x0F: // document, array, code with scope: the int32 counts itself
		if n := int32At(0); n >= 5 {
			return n
		}
	case 0x05: // binary: int32 length, subtype byte, bytes
		if n := int32At(0); n >= 0 {
			return 5 + n
		}
	case 0x0B: // regex: two cstrings
		first := bytes.IndexByte(b, 0)
		if first >= 0 {
			if second := bytes.IndexByte(b[first+1:], 0); second >= 0 {
				return first + second + 2
			}
		}
	case 0x0C: // DBPointer: string + ObjectId
		if n := int32At(0); n >= 1 {
			return 4 + n + 12
		}
	}
	return -1
}
