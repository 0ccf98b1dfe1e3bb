/*
 * sv_test_sock.h - the few socket names that differ between Winsock and
 * POSIX, for tests that run their own small HTTP servers or proxies on
 * 127.0.0.1 (test_vault_http, test_vault_blocks_azure).
 */
#ifndef SV_TEST_SOCK_H
#define SV_TEST_SOCK_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
typedef SOCKET sock_t;
#define sock_close closesocket
#define SOCK_BAD INVALID_SOCKET
#define SEND_FLAGS 0
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
typedef int sock_t;
#define sock_close close
#define SOCK_BAD (-1)
/* a peer that went away is an error to handle, not SIGPIPE */
#define SEND_FLAGS MSG_NOSIGNAL
#endif

#endif
