package main

// FerretDB v1 applies an update as read-document → modify in Go → write-document, with nothing
// holding the document in between. Two concurrent updates of one document therefore lose one
// of the two (measured: 200 concurrent {$inc: {n: 1}} on one document left n = 14). MongoDB
// guarantees every single-document write is atomic, and Yiyang's outbox, ledger and state
// machines are built on exactly that guarantee. So clients do not talk to FerretDB directly:
// this proxy sits in front and lets one write command run at a time. Reads still run in
// parallel (each SQLite statement is atomic, so a reader sees a document before or after a
// write, never half of it). SQLite takes one writer at a time anyway, so little is lost.

import (
	"encoding/binary"
	"errors"
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
)

var writeCommands = map[string]bool{
	"insert": true, "update": true, "delete": true, "findAndModify": true, "findandmodify": true,
	"create": true, "createIndexes": true, "drop": true, "dropDatabase": true, "dropIndexes": true,
	"renameCollection": true, "collMod": true,
}

type serializingProxy struct {
	backend string // FerretDB's unix socket
	writes  sync.Mutex
	logger  *slog.Logger
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
		isWrite := false
		if opCode == opMsg && len(request) >= 20 {
			flags := binary.LittleEndian.Uint32(request[16:20])
			expectsReply = flags&flagMoreToCome == 0
			isWrite = writeCommands[commandName(request[20:])]
		}
		if isWrite {
			p.writes.Lock()
			name := commandName(request[20:])
			watchdog := time.AfterFunc(writeStallLimit, func() {
				p.logger.Error("write command stalled; dropping its connection so other writers can go on",
					"command", name, "limit", writeStallLimit.String())
				_ = backend.Close()
			})
			err = roundTrip(client, backend, request, expectsReply)
			watchdog.Stop()
			p.writes.Unlock()
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

// commandName returns the first key of the OP_MSG body section (kind 0), which names the command.
func commandName(sections []byte) string {
	for len(sections) > 0 {
		kind := sections[0]
		sections = sections[1:]
		if len(sections) < 4 {
			return ""
		}
		size := int(int32(binary.LittleEndian.Uint32(sections[0:4])))
		if size < 5 || size > len(sections) {
			return ""
		}
		if kind == 0 {
			doc := sections[:size]
			// int32 length, then the first element: type byte, cstring name.
			if len(doc) < 6 {
				return ""
			}
			for i := 5; i < len(doc); i++ {
				if doc[i] == 0 {
					return string(doc[5:i])
				}
			}
			return ""
		}
		sections = sections[size:] // kind 1: a document sequence, skipped whole
	}
	return ""
}
