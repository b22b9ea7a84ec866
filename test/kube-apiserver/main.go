// Command kube-apiserver-harness runs a real kube-apiserver, backed by an
// embedded etcd, inside one process, for integration tests that must not need
// containers or release downloads.
//
// Usage:
//
//	kube-apiserver-harness --out-dir DIR [--data-dir DIR] [--secure-port N]
//	    [--extra-user NAME[:GROUP1,GROUP2]]... [--apiserver-arg=--flag=value]...
//	    [-- extra kube-apiserver flags...]
//	kube-apiserver-harness issue-user --out-dir DIR NAME[:GROUP1,GROUP2]...
//
// It writes DIR/ca.crt, DIR/url and DIR/pid at once; once GET /readyz answers
// 200 it writes DIR/ready (containing the server URL) and prints "READY <url>"
// on stdout. DIR/kubeconfig is the admin (system:masters) kubeconfig;
// DIR/kubeconfig-<name> belong to extra users. SIGTERM or SIGINT stops the
// apiserver (after it has finished starting), closes etcd and removes the
// temporary data directory; a second signal exits at once. Exit code 0 after a
// requested stop, 1 on failure, 2 on bad flags. See
// docs/kube-apiserver-harness.md.
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/klog/v2"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

const (
	serviceClusterIPRange = "10.0.0.0/24"
	firstServiceIP        = "10.0.0.1"
	serviceAccountIssuer  = "https://kubernetes.default.svc.cluster.local"
	certValidity          = 10 * 365 * 24 * time.Hour
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "issue-user" {
		os.Exit(issueUserMain(os.Args[2:]))
	}
	os.Exit(serve(os.Args[1:]))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...)
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// user is a client identity: a certificate with CN=name and O=groups.
type user struct {
	name   string
	groups []string
}

func parseUser(spec string) (user, error) {
	name, groups, _ := strings.Cut(spec, ":")
	name = strings.TrimSpace(name)
	if name == "" {
		return user{}, fmt.Errorf("invalid user %q: want NAME[:GROUP1,GROUP2]", spec)
	}
	u := user{name: name}
	for _, g := range strings.Split(groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			u.groups = append(u.groups, g)
		}
	}
	return u, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

func kubeconfigPath(outDir, name string) string {
	return filepath.Join(outDir, "kubeconfig-"+unsafeFileChars.ReplaceAllString(name, "_"))
}

func serve(argv []string) int {
	fs := flag.NewFlagSet("kube-apiserver-harness", flag.ContinueOnError)
	outDir := fs.String("out-dir", "", "directory for kubeconfigs, certificates and the ready file (required)")
	dataDir := fs.String("data-dir", "", "directory for etcd data (default: a temporary directory removed on exit)")
	securePort := fs.Int("secure-port", 0, "kube-apiserver HTTPS port on 127.0.0.1 (0: pick a free port)")
	etcdPort := fs.Int("etcd-port", 0, "etcd client port on 127.0.0.1 (0: pick a free port)")
	readyTimeout := fs.Duration("ready-timeout", 3*time.Minute, "give up if /readyz does not answer 200 within this time")
	etcdLogLevel := fs.String("etcd-log-level", "error", "embedded etcd log level (debug, info, warn, error)")
	etcdFsync := fs.Bool("etcd-fsync", false, "fsync etcd writes (off by default: test data need not survive a crash)")
	stopTimeout := fs.Duration("stop-timeout", 30*time.Second, "after a stop signal, exit anyway (code 1) if the apiserver has not stopped within this time")
	var extraUsers, apiserverArgs stringList
	fs.Var(&extraUsers, "extra-user", "also issue a client certificate and DIR/kubeconfig-NAME for NAME[:GROUP1,GROUP2] (repeatable)")
	fs.Var(&apiserverArgs, "apiserver-arg", "extra kube-apiserver flag, e.g. --apiserver-arg=--v=2 (repeatable; arguments after -- are passed too)")
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	apiserverArgs = append(apiserverArgs, fs.Args()...)
	for _, a := range apiserverArgs {
		if a == "--version" || strings.HasPrefix(a, "--version=") {
			// kube-apiserver prints its version and exits the process: do
			// that before anything is created.
			cmd := app.NewAPIServerCommand()
			cmd.SetArgs([]string{a})
			if err := cmd.Execute(); err != nil {
				return 1
			}
			return 0
		}
	}
	if *outDir == "" {
		logf("--out-dir is required")
		return 2
	}
	var users []user
	for _, spec := range extraUsers {
		u, err := parseUser(spec)
		if err != nil {
			logf("%v", err)
			return 2
		}
		users = append(users, u)
	}

	// The harness handles SIGTERM/SIGINT itself for the whole run (see below).
	sigCh := make(chan os.Signal, 4)
	signal.Notify(sigCh, syscall.SIGTERM, syscall.SIGINT)

	start := time.Now()
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		logf("create out dir: %v", err)
		return 1
	}
	outAbs, err := filepath.Abs(*outDir)
	if err != nil {
		logf("%v", err)
		return 1
	}
	readyFile := filepath.Join(outAbs, "ready")
	_ = os.Remove(readyFile)

	removeData := false
	if *dataDir == "" {
		d, err := os.MkdirTemp("", "kube-apiserver-harness-")
		if err != nil {
			logf("create temp data dir: %v", err)
			return 1
		}
		*dataDir = d
		removeData = true
	} else if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		logf("create data dir: %v", err)
		return 1
	}
	cleanup := func() {
		_ = os.Remove(readyFile)
		if removeData {
			if err := os.RemoveAll(*dataDir); err != nil {
				logf("remove data dir: %v", err)
			}
		}
	}

	if removeData {
		logf("data dir %s (temporary, removed on exit)", *dataDir)
	} else {
		logf("data dir %s (kept)", *dataDir)
	}

	ports, err := freePorts(*securePort, *etcdPort)
	if err != nil {
		logf("pick ports: %v", err)
		cleanup()
		return 1
	}
	apiPort, etcdClientPort, etcdPeerPort := ports[0], ports[1], ports[2]
	serverURL := fmt.Sprintf("https://127.0.0.1:%d", apiPort)

	pki, err := writePKI(outAbs, serverURL, users)
	if err != nil {
		logf("certificates: %v", err)
		cleanup()
		return 1
	}
	_ = os.WriteFile(filepath.Join(outAbs, "url"), []byte(serverURL+"\n"), 0o644)
	_ = os.WriteFile(filepath.Join(outAbs, "pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)

	etcd, err := startEtcd(filepath.Join(*dataDir, "etcd"), etcdClientPort, etcdPeerPort, *etcdLogLevel, !*etcdFsync)
	if err != nil {
		logf("etcd: %v", err)
		cleanup()
		return 1
	}
	select {
	case <-etcd.Server.ReadyNotify():
	case err := <-etcd.Err():
		logf("etcd failed: %v", err)
		etcd.Close()
		cleanup()
		return 1
	case <-time.After(60 * time.Second):
		logf("etcd did not become ready within 60s")
		etcd.Close()
		cleanup()
		return 1
	case s := <-sigCh:
		logf("received %v before the apiserver started; exiting", s)
		etcd.Close()
		cleanup()
		return 0
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClientPort)
	logf("etcd ready at %s after %s", etcdURL, time.Since(start).Round(time.Millisecond))

	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + filepath.Join(*dataDir, "apiserver-certs"),
		"--tls-cert-file=" + pki.servingCert,
		"--tls-private-key-file=" + pki.servingKey,
		"--client-ca-file=" + pki.caCert,
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + serviceAccountIssuer,
		"--service-account-key-file=" + pki.saPublic,
		"--service-account-signing-key-file=" + pki.saPrivate,
		"--service-cluster-ip-range=" + serviceClusterIPRange,
		"--disable-admission-plugins=ServiceAccount",
		"--endpoint-reconciler-type=none",
		"--shutdown-delay-duration=0s",
		// Without these two, an open watch (any operator or kubectl -w) holds the
		// HTTP server's shutdown for the full 60s request timeout.
		"--shutdown-send-retry-after=true",
		"--shutdown-watch-termination-grace-period=2s",
		"--allow-privileged=true",
	}
	args = append(args, apiserverArgs...)

	// A klog.Fatal inside the apiserver (e.g. a post-start hook failing) exits
	// the process directly; remove the temporary data on that path too.
	klog.OsExit = func(code int) {
		cleanup()
		os.Exit(code)
	}

	// NewAPIServerCommand installs the apiserver's own SIGTERM/SIGINT handler,
	// which stops it at once, even half-started (and a post-start hook then
	// kills the process with klog.Fatal). Take the signals back: the harness
	// forwards a stop with RequestShutdown, and only once the apiserver is
	// ready (or failed to become ready).
	cmd := app.NewAPIServerCommand()
	signal.Reset(syscall.SIGTERM, syscall.SIGINT)
	signal.Notify(sigCh, syscall.SIGTERM, syscall.SIGINT)
	cmd.SetArgs(args)
	apiDone := make(chan error, 1)
	go func() { apiDone <- cmd.ExecuteContext(context.Background()) }()

	readyCtx, cancelReady := context.WithCancel(context.Background())
	defer cancelReady()
	readyCh := make(chan error, 1)
	go func() { readyCh <- waitReady(readyCtx, serverURL, pki.adminTLS, *readyTimeout) }()

	var failed, stopping, startupOver, shutdownSent bool
	var stopDeadline <-chan time.Time
	beginStop := func() {
		if !stopping {
			stopping = true
			stopDeadline = time.After(*stopTimeout)
		}
		if startupOver && !shutdownSent {
			shutdownSent = true
			genericapiserver.RequestShutdown()
		}
	}
	for done := false; !done; {
		select {
		case <-stopDeadline:
			// The apiserver may still use etcd: do not close it, just leave.
			logf("apiserver did not stop within %s; exiting without closing etcd", *stopTimeout)
			cleanup()
			return 1
		case err := <-readyCh:
			startupOver = true
			if err != nil {
				logf("apiserver not ready: %v; shutting down", err)
				failed = true
				beginStop()
				continue
			}
			if stopping {
				beginStop() // a signal arrived during startup: stop now
				continue
			}
			if err := writeFileAtomic(readyFile, []byte(serverURL+"\n")); err != nil {
				logf("write ready file: %v", err)
			}
			logf("apiserver ready at %s after %s; admin kubeconfig: %s", serverURL,
				time.Since(start).Round(time.Millisecond), filepath.Join(outAbs, "kubeconfig"))
			fmt.Printf("READY %s\n", serverURL)
		case s := <-sigCh:
			if stopping {
				logf("received %v again; exiting without waiting for the apiserver", s)
				cleanup()
				return 1
			}
			if startupOver {
				logf("received %v; stopping the apiserver", s)
			} else {
				logf("received %v during startup; stopping the apiserver once it has started", s)
			}
			_ = os.Remove(readyFile)
			beginStop()
		case err := <-etcd.Err():
			if err != nil && !stopping {
				logf("etcd failed: %v; shutting down", err)
				failed = true
				startupOver = true
				beginStop()
			}
		case err := <-apiDone:
			if err != nil {
				logf("apiserver exited: %v", err)
				failed = true
			} else if !stopping {
				logf("apiserver exited unexpectedly")
				failed = true
			}
			done = true
		}
	}
	cancelReady()
	_ = os.Remove(readyFile)
	logf("closing etcd")
	etcd.Close()
	cleanup()
	logf("stopped")
	if failed {
		return 1
	}
	return 0
}

// freePorts returns [apiserver, etcd client, etcd peer] ports, choosing free
// loopback ports where the requested one is 0. All listeners stay open until
// every port is chosen so the three are distinct.
func freePorts(api, etcdClient int) ([]int, error) {
	want := []int{api, etcdClient, 0}
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	out := make([]int, len(want))
	for i, p := range want {
		if p != 0 {
			out[i] = p
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listeners = append(listeners, l)
		out[i] = l.Addr().(*net.TCPAddr).Port
	}
	return out, nil
}

func startEtcd(dir string, clientPort, peerPort int, logLevel string, noFsync bool) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = "harness"
	cfg.Dir = dir
	clientURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", clientPort)}
	peerURL := url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", peerPort)}
	cfg.ListenClientUrls = []url.URL{clientURL}
	cfg.AdvertiseClientUrls = []url.URL{clientURL}
	cfg.ListenPeerUrls = []url.URL{peerURL}
	cfg.AdvertisePeerUrls = []url.URL{peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.Logger = "zap"
	cfg.LogLevel = logLevel
	cfg.LogOutputs = []string{"stderr"}
	cfg.UnsafeNoFsync = noFsync
	return embed.StartEtcd(cfg)
}

// waitReady polls GET /readyz as the admin user until it answers 200.
func waitReady(ctx context.Context, serverURL string, tlsConfig *tls.Config, timeout time.Duration) error {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: tlsConfig},
	}
	deadline := time.Now().Add(timeout)
	last := "no answer yet"
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, serverURL+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s (last: %s)", timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ---- certificates and kubeconfigs ----

type pkiFiles struct {
	caCert, caKey           string
	servingCert, servingKey string
	saPrivate, saPublic     string
	adminTLS                *tls.Config
}

type certAuthority struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// writePKI writes the CA (reused if DIR already has one), the serving
// certificate, the service-account key pair (reused likewise) and the
// kubeconfigs of the admin and of the extra users.
func writePKI(dir, serverURL string, users []user) (*pkiFiles, error) {
	p := &pkiFiles{
		caCert:      filepath.Join(dir, "ca.crt"),
		caKey:       filepath.Join(dir, "ca.key"),
		servingCert: filepath.Join(dir, "apiserver.crt"),
		servingKey:  filepath.Join(dir, "apiserver.key"),
		saPrivate:   filepath.Join(dir, "sa.key"),
		saPublic:    filepath.Join(dir, "sa.pub"),
	}
	ca, err := loadCA(p.caCert, p.caKey)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		if ca, err = newCA(); err != nil {
			return nil, err
		}
		if err := writeKeyPair(p.caCert, p.caKey, ca.certPEM, ca.key); err != nil {
			return nil, err
		}
	}

	servingPEM, servingKey, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		DNSNames:    []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1"), net.ParseIP(firstServiceIP)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return nil, err
	}
	if err := writeKeyPair(p.servingCert, p.servingKey, servingPEM, servingKey); err != nil {
		return nil, err
	}

	if _, err := os.Stat(p.saPrivate); errors.Is(err, os.ErrNotExist) {
		saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		pubDER, err := x509.MarshalPKIXPublicKey(saKey.Public())
		if err != nil {
			return nil, err
		}
		if err := writeKey(p.saPrivate, saKey); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p.saPublic, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
			return nil, err
		}
	}

	adminCert, adminKey, err := writeUserKubeconfig(ca, filepath.Join(dir, "kubeconfig"), serverURL,
		user{name: "admin", groups: []string{"system:masters"}})
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	pair, err := tls.X509KeyPair(adminCert, adminKey)
	if err != nil {
		return nil, err
	}
	p.adminTLS = &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}

	for _, u := range users {
		if _, _, err := writeUserKubeconfig(ca, kubeconfigPath(dir, u.name), serverURL, u); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func newCA() (*certAuthority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "kube-apiserver-harness-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &certAuthority{cert: cert, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}, nil
}

func loadCA(certFile, keyFile string) (*certAuthority, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load CA from %s: %w", certFile, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("CA key in %s cannot sign", keyFile)
	}
	return &certAuthority{cert: cert, certPEM: certPEM, key: signer}, nil
}

// issue signs tmpl (subject, SANs, extended key usage) with a fresh P-256 key.
func (ca *certAuthority) issue(tmpl *x509.Certificate) ([]byte, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl.SerialNumber = randomSerial()
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(certValidity)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key, nil
}

// writeUserKubeconfig issues a client certificate (CN=name, O=groups) and
// writes a kubeconfig with it embedded. It returns the certificate and key PEM.
func writeUserKubeconfig(ca *certAuthority, path, serverURL string, u user) ([]byte, []byte, error) {
	certPEM, key, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: u.name, Organization: u.groups},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["harness"] = &clientcmdapi.Cluster{Server: serverURL, CertificateAuthorityData: ca.certPEM}
	cfg.AuthInfos[u.name] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts["harness"] = &clientcmdapi.Context{Cluster: "harness", AuthInfo: u.name, Namespace: "default"}
	cfg.CurrentContext = "harness"
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return nil, nil, err
	}
	return certPEM, keyPEM, nil
}

func randomSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err)
	}
	return n
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func writeKey(path string, key crypto.Signer) error {
	data, err := encodeKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

func writeKeyPair(certPath, keyPath string, certPEM []byte, key crypto.Signer) error {
	if err := writeKey(keyPath, key); err != nil {
		return err
	}
	return os.WriteFile(certPath, certPEM, 0o644)
}

// writeFileAtomic writes via a temporary file and rename, so a reader never
// sees a half-written file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ---- issue-user subcommand ----

func issueUserMain(argv []string) int {
	fs := flag.NewFlagSet("kube-apiserver-harness issue-user", flag.ContinueOnError)
	outDir := fs.String("out-dir", "", "the --out-dir of a running (or prepared) harness (required)")
	fs.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: kube-apiserver-harness issue-user --out-dir DIR NAME[:GROUP1,GROUP2]...")
		fmt.Fprintln(os.Stderr, "Writes DIR/kubeconfig-NAME for each user, signed by DIR/ca.crt, and prints its path.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(argv); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *outDir == "" || fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	ca, err := loadCA(filepath.Join(*outDir, "ca.crt"), filepath.Join(*outDir, "ca.key"))
	if err != nil {
		logf("%v", err)
		return 1
	}
	urlBytes, err := os.ReadFile(filepath.Join(*outDir, "url"))
	if err != nil {
		logf("%v", err)
		return 1
	}
	serverURL := strings.TrimSpace(string(urlBytes))
	for _, spec := range fs.Args() {
		u, err := parseUser(spec)
		if err != nil {
			logf("%v", err)
			return 2
		}
		path := kubeconfigPath(*outDir, u.name)
		if _, _, err := writeUserKubeconfig(ca, path, serverURL, u); err != nil {
			logf("%v", err)
			return 1
		}
		fmt.Println(path)
	}
	return 0
}
