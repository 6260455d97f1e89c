// A client connection's byte stream for the web front: plain TCP or TLS
// terminated here, always non-blocking. Each call does what it can now and
// says what it waits for, so one epoll loop serves every connection
// without a thread each (a TLS handshake that never comes costs a socket
// and a few KiB, not a thread).
//
// Thread safety: none; one loop thread owns each stream.
#pragma once

#include <cstddef>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace ctcollect {

class ClientStream {
 public:
  enum class Io {
    kOk,     // done (bytes moved, or the handshake finished)
    kAgain,  // nothing now: wait for wants_write() ? EPOLLOUT : EPOLLIN
    kEnd,    // the client closed its side
    kError,  // reset, or TLS failed: close the connection
  };

  // Takes `fd` (non-blocking) and closes it. `tls` null: plain TCP.
  ClientStream(int fd, SSL_CTX* tls);
  ~ClientStream();
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  int fd() const { return fd_; }
  bool ready() const { return ready_; }  // the TLS handshake is done
  Io Handshake();
  Io Read(char* buf, size_t n, size_t* got);
  Io Write(const char* buf, size_t n, size_t* put);
  // What the last kAgain of each direction waits for (TLS may need to
  // write to read, or read to write; the handshake counts as reading).
  bool read_wants_write() const { return read_wants_write_; }
  bool write_wants_read() const { return write_wants_read_; }
  // Before a clean close: TLS close_notify, best effort.
  void Goodbye();

 private:
  // SSL_get_error of `ret`; *want: SSL_ERROR_WANT_READ/WRITE on kAgain.
  Io TlsResult(int ret, int* want);

  int fd_;
  SSL* ssl_ = nullptr;
  bool ready_;
  bool failed_ = false;
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
};

}  // namespace ctcollect
