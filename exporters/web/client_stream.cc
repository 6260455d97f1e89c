#include "exporters/web/client_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ctcollect {

ClientStream::ClientStream(int fd, SSL_CTX* tls) : fd_(fd), ready_(!tls) {
  if (tls == nullptr) return;
  ssl_ = SSL_new(tls);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd) != 1) {
    failed_ = true;
    return;
  }
  SSL_set_accept_state(ssl_);
}

ClientStream::~ClientStream() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  close(fd_);
}

ClientStream::Io ClientStream::TlsResult(int ret, int* want) {
  const int err = SSL_get_error(ssl_, ret);
  // OpenSSL's error queue is per thread: leave nothing in it for the next
  // connection's call to find.
  ERR_clear_error();
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      *want = err;
      return Io::kAgain;
    case SSL_ERROR_ZERO_RETURN:
      return Io::kEnd;
    default:
      failed_ = true;
      return Io::kError;
  }
}

ClientStream::Io ClientStream::Handshake() {
  if (ready_) return Io::kOk;
  if (failed_) return Io::kError;
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    ready_ = true;
    return Io::kOk;
  }
  int want = 0;
  Io io = TlsResult(r, &want);
  read_wants_write_ = want == SSL_ERROR_WANT_WRITE;
  return io;
}

ClientStream::Io ClientStream::Read(char* buf, size_t n, size_t* got) {
  *got = 0;
  if (failed_) return Io::kError;
  if (ssl_ == nullptr) {
    const ssize_t r = recv(fd_, buf, n, 0);
    if (r > 0) {
      *got = static_cast<size_t>(r);
      return Io::kOk;
    }
    if (r == 0) return Io::kEnd;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      read_wants_write_ = false;
      return Io::kAgain;
    }
    return Io::kError;
  }
  if (!SSL_read_ex(ssl_, buf, n, got)) {
    int want = 0;
    Io io = TlsResult(0, &want);
    read_wants_write_ = want == SSL_ERROR_WANT_WRITE;
    return io;
  }
  return Io::kOk;
}

ClientStream::Io ClientStream::Write(const char* buf, size_t n, size_t* put) {
  *put = 0;
  if (failed_) return Io::kError;
  if (ssl_ == nullptr) {
    const ssize_t r = send(fd_, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
      *put = static_cast<size_t>(r);
      return Io::kOk;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      write_wants_read_ = false;
      return Io::kAgain;
    }
    return Io::kError;
  }
  if (!SSL_write_ex(ssl_, buf, n, put)) {
    int want = 0;
    Io io = TlsResult(0, &want);
    write_wants_read_ = want == SSL_ERROR_WANT_READ;
    return io;
  }
  return Io::kOk;
}

void ClientStream::Goodbye() {
  if (ssl_ != nullptr && ready_ && !failed_) {
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
}

}  // namespace ctcollect
