// Command yiyang-ferretdb runs FerretDB v1 (a MongoDB wire-protocol server)
// with its SQLite backend, for local development and CI without Docker.
//
// We build our own tiny main around the embeddable package instead of
// `go install github.com/FerretDB/FerretDB/cmd/ferretdb` because that command
// panics unless build/version/version.txt was generated from a git checkout.
// The embeddable package skips that check when the main module is not
// FerretDB itself, so no replace directive or ldflags are needed.
//
// It is started and stopped by tools/infra/infra.mjs; flags fall back to env
// vars so it can also be run by hand.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // profiles on YIYANG_FERRETDB_PPROF only
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/build/version"
	"github.com/FerretDB/FerretDB/ferretdb"
)

// setVersion makes buildInfo/serverStatus/logs report the FerretDB module
// version we were built against; embedded builds otherwise say "unknown".
func setVersion() {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	for _, dep := range bi.Deps {
		if dep.Path == "github.com/FerretDB/FerretDB" {
			version.Get().Version = dep.Version
		}
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	listen := flag.String("listen", "127.0.0.1:"+envOr("YIYANG_MONGO_PORT", "27017"), "TCP address to listen on")
	dataDir := flag.String("data-dir", envOr("YIYANG_FERRETDB_DATA", "data"), "directory for the SQLite database files (one file per MongoDB database)")
	logLevel := flag.String("log-level", envOr("YIYANG_FERRETDB_LOG_LEVEL", "info"), "debug, info, warn or error")
	flag.Parse()
	setVersion()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "yiyang-ferretdb: bad -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	// stderr is redirected to .infra/logs/ferretdb.log by infra.mjs.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	dir, err := filepath.Abs(*dataDir)
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		logger.Error("cannot prepare data directory", "dir", *dataDir, "error", err)
		os.Exit(1)
	}

	// FerretDB wants a "file:" URI naming a directory, with a trailing slash.
	// Building it with net/url keeps paths with spaces or '?' intact.
	// synchronous(normal): in WAL mode a commit no longer waits for an fsync of its own; the WAL is
	// synced at checkpoints. A crash of the process loses nothing; a power cut may lose the last
	// commits. For a local development and CI database that trade is right: with FULL every single
	// write paid one fsync (measured ~40 ms per update on this machine's disk, so the whole machine
	// managed a few dozen writes a second), which made the outbox relay and every test crawl.
	// The other pragmas cut system calls, the largest cost left in a bulk insert (pprof, roster
	// import of 150,000 rows: 21% of the database's CPU in pread/pwrite):
	// - cache_size 32 MiB per connection instead of 2 MiB, mmap_size 1 GiB: pages are read from the
	//   shared mapping instead of one pread each (FerretDB's pool hands a write to any of its
	//   connections, so a small private cache was mostly cold);
	// - wal_autocheckpoint 8,192 pages (32 MiB) instead of 1,000: a hot index page is copied back to
	//   the database once per checkpoint, so fewer checkpoints write fewer pages;
	// - temp_store memory: a multi-row INSERT's statement journal stays in memory, not a temp file.
	// Measured together with the debug-logging patch (infra.mjs): roster import 1,449 -> 2,197 rows/s.
	sqliteURL := (&url.URL{
		Scheme:   "file",
		Path:     strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/",
		RawQuery: url.Values{"_pragma": {"synchronous(normal)", "cache_size(-32768)", "mmap_size(1073741824)", "wal_autocheckpoint(8192)", "temp_store(memory)"}}.Encode(),
	}).String()

	// FerretDB itself listens only on a private unix socket; clients reach it through the
	// write-serialising proxy (serialize.go), which owns the public TCP address.
	// Take the public port first: a second instance started by mistake must fail here, before it
	// removes the socket the running one's proxy dials.
	public, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen", "address", *listen, "error", err)
		os.Exit(1)
	}
	defer public.Close()
	socket := filepath.Join(dir, "ferretdb.sock")
	_ = os.Remove(socket)

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{Unix: socket},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		logger.Error("cannot start FerretDB", "error", err)
		os.Exit(1)
	}

	// SIGTERM (from `infra.mjs down`) cancels the context so FerretDB closes
	// connections and the SQLite files cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger.Info("yiyang-ferretdb starting", "ferretdb", version.Get().Version, "listen", *listen, "sqlite", sqliteURL)

	// Where the database's CPU goes under a benchmark: `go tool pprof http://<addr>/debug/pprof/profile`.
	// Off unless asked for; never on a public address by default.
	if addr := os.Getenv("YIYANG_FERRETDB_PPROF"); addr != "" {
		go func() { logger.Warn("pprof stopped", "error", http.ListenAndServe(addr, nil)) }()
	}

	proxy := &serializingProxy{backend: socket, logger: logger}
	go func() {
		<-ctx.Done()
		public.Close()
	}()
	go func() {
		if err := proxy.serve(public); err != nil {
			logger.Error("proxy stopped", "error", err)
			stop()
		}
	}()

	if err := f.Run(ctx); err != nil {
		logger.Error("FerretDB stopped with an error", "error", err)
		os.Exit(1)
	}

	logger.Info("yiyang-ferretdb stopped")
}
