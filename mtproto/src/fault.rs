//! Who is at fault when something fails: every error type of this crate's wire modules
//! (transports, encrypted messages, RSA, the handshake) says it through a `fault()` method,
//! so a server can decide between "close the connection, the peer is broken or hostile" and
//! "log a bug in our own code".

/// Whose mistake an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// The other end sent bytes that are malformed or that break a rule of the protocol. The
    /// usual reaction is to drop the input (and, for a transport, to close the connection).
    Peer,
    /// The peer asked for something this implementation does not do (the HTTP transport,
    /// fake-TLS). Not malformed, just not served here.
    Unsupported,
    /// The caller of this crate passed arguments the protocol cannot carry (a body that is not
    /// whole 4-byte words, a key of the wrong size). A bug in our own code.
    Caller,
}
