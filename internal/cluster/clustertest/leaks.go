package clustertest

import "go.uber.org/goleak"

// IgnoreLeaks are the goleak options of a package whose tests start these
// servers and their clients: the servers' and the clients' background
// loops end asynchronously after Shutdown/WaitForShutdown and Close (a
// server stopped mid-test can leave its file store's flush loop and the
// shared access-time ticker running a moment longer; nats.go's object
// reader and async-ack watcher briefly outlive a closed connection).
func IgnoreLeaks() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).Start.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushStreamStateLoop"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats.go/jetstream.(*obs).Get.func2"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*jetStream).resetPendingAcksOnReconnect"),
	}
}
