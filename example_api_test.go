package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/credvault/vault"
)

// exampleVault seals secrets into a new vault in a temporary directory and
// returns its path, its key and a function that removes it.
func exampleVault(secrets any) (path string, key *vault.Key, done func()) {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		log.Fatal(err)
	}
	path = filepath.Join(dir, "credentials.enc")
	key = vault.GenerateKey()
	if err := vault.Seal(path, secrets, key); err != nil {
		log.Fatal(err)
	}
	return path, key, func() { os.RemoveAll(dir) }
}

var exampleSecrets = map[string]any{
	"database": map[string]any{"host": "db.example.com", "port": 5432, "password": "fake-s3cret"},
	"deploy":   map[string]any{"replicas": 3},
}

func ExampleVault_Lookup() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, err := vault.Open(path, []*vault.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	// An optional value: absence is an answer, not an error.
	region, ok, err := v.Lookup("deploy.region")
	if err != nil {
		log.Fatal(err)
	}
	if !ok {
		region = "eu-west-1"
	}
	replicas, ok, _ := v.Lookup("deploy.replicas")
	fmt.Println(region, replicas, ok)

	// A path to an object is an error that errors.Is tells apart.
	_, _, err = v.Lookup("database")
	fmt.Println(errors.Is(err, vault.ErrNotScalar))
	// Output:
	// eu-west-1 3 true
	// true
}

func ExampleVault_Decode() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, err := vault.Open(path, []*vault.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	var db struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Password string `json:"password"`
		SSLMode  string `json:"sslmode"`
	}
	db.SSLMode = "require" // a default the vault does not set
	if err := v.Decode("database", &db); err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Host, db.Port, db.SSLMode)

	// A value that does not fit is reported by its kind, never its text.
	var wrong struct {
		Port bool `json:"port"`
	}
	fmt.Println(v.Decode("database", &wrong) != nil)
	// Output:
	// db.example.com 5432 require
	// true
}

func ExampleSeal_struct() {
	type Database struct {
		Host     string `json:"host"`
		Port     uint16 `json:"port"`
		Password string `json:"password"`
	}
	type Secrets struct {
		Database Database       `json:"database"`
		Limits   map[string]int `json:"limits"`
	}
	path, key, done := exampleVault(Secrets{
		Database: Database{Host: "db.example.com", Port: 5432, Password: "fake"},
		Limits:   map[string]int{"connections": 20},
	})
	defer done()
	v, _ := vault.Open(path, []*vault.Key{key})
	port, _ := v.Get("database.port")
	limit, _ := v.Get("limits.connections")
	fmt.Println(port, limit)
	// Output:
	// 5432 20
}

func ExampleUpdate() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	err := vault.Update(path, []*vault.Key{key}, func(tx *vault.Tx) error {
		// The Tx reads like the Vault, and alone can change it.
		old, _ := tx.Get("database.password")
		fmt.Println("old password:", old)
		if err := tx.Set("database.password", "fake-n3w"); err != nil {
			return err
		}
		return tx.Delete("deploy")
	})
	if err != nil {
		log.Fatal(err)
	}
	v, _ := vault.Open(path, []*vault.Key{key})
	fmt.Println(v.Paths())
	// Output:
	// old password: fake-s3cret
	// [database.host database.password database.port]
}

func ExampleVault_Run() {
	if _, err := exec.LookPath("sh"); err != nil {
		fmt.Println("token=***") // no sh here: what it would print
		return
	}
	path, key, done := exampleVault(map[string]any{"api": map[string]any{"token": "fake-t0ken-value"}})
	defer done()
	v, err := vault.Open(path, []*vault.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	// The deploy step may take a minute at most: then it gets SIGTERM,
	// and is killed WaitDelay later if it is still running.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = v.Run(ctx, &vault.Command{
		Args:   []string{"sh", "-c", `echo "token=$APP_API_TOKEN"`},
		Env:    []string{"PATH=/usr/bin:/bin", "MASTER_KEY=" + key.Encode()},
		Strip:  []string{"MASTER_KEY"}, // the command never sees the key
		Prefix: "APP_",
		Stdout: os.Stdout, Stderr: os.Stderr, // each through its own Redactor
	})
	var exit *vault.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.Code) // a wrapper exits with the command's status
	}
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// token=***
}

func ExampleExitError() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, _ := vault.Open(path, []*vault.Key{key})
	err := v.Run(context.Background(), &vault.Command{Args: []string{"no-such-deploy-tool"}})
	var exit *vault.ExitError
	if errors.As(err, &exit) {
		fmt.Println(exit.Code, exit.Started)
		fmt.Println(err)
	}
	// Output:
	// 127 false
	// vault: no-such-deploy-tool: command not found: check its name and $PATH
}

func ExampleRunCmd() {
	// A child that gets no secrets, such as an editor: signals relayed, its
	// end reported as a shell would.
	err := vault.RunCmd(exec.Command("no-such-editor"))
	var exit *vault.ExitError
	fmt.Println(errors.As(err, &exit) && exit.Code == 127)
	// Output:
	// true
}

func ExampleHardenProcess() {
	// First thing in main of a program that may hold a key in its
	// environment: other processes of the same user, its children
	// included, can no longer read /proc/<pid>/environ (Linux).
	if err := vault.HardenProcess(); err != nil {
		log.Print(err)
	}
	fmt.Println("hardened")
	// Output:
	// hardened
}

func ExampleOptions() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	var events []string
	auditor := vault.AuditorFunc(func(_ context.Context, e vault.Event) error {
		events = append(events, string(e.Op))
		return nil
	})
	// Auditing set up once, passed to every call; the options that apply
	// to one kind of call only are given there: WithMaxAge to Open, and
	// WithLockTimeout to a write. Giving WithMaxAge to Seal does not compile.
	audit := vault.Options(vault.WithAuditor(auditor), vault.WithKeySource("MASTER_KEY"))
	v, err := vault.Open(path, []*vault.Key{key}, audit, vault.WithMaxAge(24*time.Hour))
	if err != nil {
		log.Fatal(err)
	}
	v.Get("database.host")
	err = vault.Update(path, []*vault.Key{key}, func(tx *vault.Tx) error {
		return tx.Set("deploy.replicas", 4)
	}, audit, vault.WithLockTimeout(time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(events)
	// Output:
	// [open get open set]
}

func ExampleAuditorFunc() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	// An Auditor that refuses to record, as a full disk would: the
	// operation fails and releases nothing (fail-closed).
	refuse := vault.AuditorFunc(func(context.Context, vault.Event) error {
		return errors.New("audit log unavailable")
	})
	_, err := vault.Open(path, []*vault.Key{key}, vault.WithAuditor(refuse))
	fmt.Println(errors.Is(err, vault.ErrAudit))
	// Output:
	// true
}

// traceKey is where this example keeps a trace id in a context, as a
// tracing library does.
type traceKey struct{}

// traceHandler adds the context's trace id to every record, as
// OpenTelemetry's slog bridge does.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(traceKey{}).(string); ok {
		r.AddAttrs(slog.String("trace_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func ExampleOpenContext() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	logger := slog.New(traceHandler{slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case "op", "path", "trace_id", "outcome":
				return a
			}
			return slog.Attr{} // the rest left out to keep the output stable
		},
	})})
	audit := vault.WithAuditor(vault.NewSlogAuditor(logger))

	// The request's context, with its trace, reaches the audit records.
	ctx := context.WithValue(context.Background(), traceKey{}, "4bf92f3577b34da6")
	v, err := vault.OpenContext(ctx, path, []*vault.Key{key}, audit)
	if err != nil {
		log.Fatal(err)
	}
	v.GetContext(ctx, "database.password")
	// Output:
	// op=open outcome=ok trace_id=4bf92f3577b34da6
	// op=get path=database.password outcome=ok trace_id=4bf92f3577b34da6
}

func ExampleSealTo() {
	// A vault built in memory, for object storage.
	key := vault.GenerateKey()
	var object bytes.Buffer
	err := vault.SealTo(&object, "s3://deploy-bucket/prod.enc", map[string]any{"token": "fake"}, key)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(object.String(), "gAAAAA")) // one Fernet token

	// Later, the bytes fetched back.
	v, err := vault.OpenBytes(object.Bytes(), "s3://deploy-bucket/prod.enc", []*vault.Key{key})
	if err != nil {
		log.Fatal(err)
	}
	token, _ := v.Get("token")
	fmt.Println(token)
	// Output:
	// true
	// fake
}

func ExampleOpenBytes() {
	// Fernet's spec test key and token; the token's plaintext is not JSON.
	key, _ := vault.ParseKey("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=")
	_, err := vault.OpenBytes([]byte("gAAAAAAdwJ6wAAECAwQFBgcICQoLDA0ODy021cpGVWKZ_eEwCGM4BLLF_5CV9dOPmrhuVUPgJobwOz7JcbmrR64jVmpU4IwqDA=="), "spec-token", []*vault.Key{key})
	fmt.Println(errors.Is(err, vault.ErrNotJSON))
	// Output:
	// true
}

func ExampleFromPath() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, _ := vault.Open(path, []*vault.Key{key})
	// The CLI's "-path database -prefix PG": the database's keys only.
	env, err := v.Environ("PG", vault.FromPath("database"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Join(env, "\n"))
	// Output:
	// PGHOST=db.example.com
	// PGPASSWORD=fake-s3cret
	// PGPORT=5432
}

func ExampleGitHubExporter() {
	envFile, err := os.CreateTemp("", "github-env") // $GITHUB_ENV in a step
	if err != nil {
		log.Fatal(err)
	}
	defer os.Remove(envFile.Name())
	defer envFile.Close()
	err = vault.GitHubExporter(envFile)(os.Stdout, map[string]string{"APP_TOKEN": "fake-t0ken"})
	if err != nil {
		log.Fatal(err)
	}
	// The value, then the forms of it that the runner does not derive by
	// itself: base64 of it in UTF-16 (PowerShell's -EncodedCommand) at
	// each alignment, and hex.

	// Output:
	// ::add-mask::fake-t0ken
	// ::add-mask::ZgBhAGsAZQAtAHQAMABrAGUAbgA=
	// ::add-mask::ZgBhAGsAZQAtAHQAMABrAGUAbg
	// ::add-mask::YAYQBrAGUALQB0ADAAawBlAG4A
	// ::add-mask::mAGEAawBlAC0AdAAwAGsAZQBuA
	// ::add-mask::66616b652d74306b656e
	// ::add-mask::66616B652D74306B656E
}

func ExampleVault_Masker() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	v, _ := vault.Open(path, []*vault.Key{key})
	// The program's own log, masked as Run masks a command's output; the
	// host is declared not secret, so that the log keeps its words.
	m, err := v.Masker(context.Background(), vault.NotSecret("database.host"))
	if err != nil {
		log.Fatal(err)
	}
	logOut := m.Redactor(os.Stdout)
	fmt.Fprintln(logOut, "connecting to db.example.com with password fake-s3cret")
	logOut.Close()
	// Output:
	// connecting to db.example.com with password ***
}

func ExampleTx() {
	path, key, done := exampleVault(exampleSecrets)
	defer done()
	var kept *vault.Tx
	vault.Update(path, []*vault.Key{key}, func(tx *vault.Tx) error {
		kept = tx
		return tx.Set("database.port", 6432)
	})
	// A change after Update has returned would be lost: it is refused.
	err := kept.Set("database.port", 7432)
	fmt.Println(errors.Is(err, vault.ErrTxDone))
	v, _ := vault.Open(path, []*vault.Key{key})
	port, _ := v.Get("database.port")
	fmt.Println(port)
	// Output:
	// true
	// 6432
}
