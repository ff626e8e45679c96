/*
 * What the C examples share (common.c): the ABI checks of both libraries,
 * error checks that print each library's own last error, clocks and waits,
 * and the setup of the simulated console and of a client that streams from
 * it until conditions hold. Built into every example (examples/c/Makefile).
 */
#ifndef XNANO_EXAMPLES_COMMON_H
#define XNANO_EXAMPLES_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xnano.h"
#include "xnano_sim.h"

/* The command line of the streaming examples: [SECONDS] [OUTDIR]
 * [--synthetic] and, with `with_pcm`, [--pcm]. */
struct example_args {
    double seconds;     /* the caller's default stays without SECONDS */
    const char *outdir; /* likewise */
    int synthetic;
    int pcm;
};

void parse_args(int argc, char **argv, int with_pcm, struct example_args *args);

/* First of all: the loaded libraries must speak the ABIs of these headers.
 * Returns 0 when both do; else prints "xnano ABI mismatch: ..." or
 * "xnano_sim ABI mismatch: ..." and returns 2 (the exit status). */
int check_abis(void);

/* 1 when r is XNANO_OK; else prints "WHAT: RESULT: message" with
 * xnano_last_error() and returns 0. */
int check(xnano_result r, const char *what);

/* The same for the simulated console's calls (libxnano_sim's own message,
 * xnano_sim_last_error()). */
int check_sim(xnano_result r, const char *what);

void sleep_us(long us);
void sleep_ms(long ms);
/* Seconds on the monotonic clock. */
double now_s(void);

/* Waits (polling every `poll_ms` milliseconds) until `cond` holds or
 * `seconds` passed. */
#define WAIT_FOR_EVERY(cond, seconds, poll_ms)                                    \
    do {                                                                          \
        double end_ = now_s() + (seconds);                                        \
        while (!(cond) && now_s() < end_) {                                       \
            sleep_us((poll_ms) * 1000L);                                          \
        }                                                                         \
    } while (0)

/* The same, polling every millisecond. */
#define WAIT_FOR(cond, seconds) WAIT_FOR_EVERY(cond, seconds, 1)

/* Waits up to `seconds` for *flag to become non-zero. */
int wait_flag(atomic_int *flag, double seconds);

/* xnano_sim_config_default into *cfg (struct_size set), then small video
 * (320x240: cheap under valgrind) from `video_source`, `audio_source` and
 * the SmartGlass side or not. Set more fields, then start_sim(). */
xnano_result sim_config(xnano_sim_config *cfg, uint32_t video_source, uint32_t audio_source,
                        bool smartglass);

/* xnano_sim_new of *cfg (struct_size set); NULL, with libxnano_sim's
 * message printed, when it fails. */
xnano_sim *start_sim(xnano_sim_config *cfg);

/* "127.0.0.1:PORT", the simulated console's SmartGlass address, into
 * buf; 0 (message printed) without SmartGlass. */
int sim_smartglass_address(xnano_sim *sim, char *buf, size_t size);

/* xnano_client_config_default into *cfg (struct_size set) with both the
 * connect and the silence timeout `timeout_ms` (generous: valgrind is
 * slow). */
xnano_result client_config(xnano_client_config *cfg, uint32_t timeout_ms);

/* What the stream callbacks of an example count (each example's callbacks
 * add to them; init_stream_counts first). */
struct stream_counts {
    atomic_ulong frames;
    atomic_ulong audio_packets;
    atomic_ulong rumbles;
    atomic_int state;
};

void init_stream_counts(struct stream_counts *k);

/* Streams from a connecting `client`, pressing and releasing A with
 * changing triggers every 100 ms. Judged on conditions, not on a rate: it
 * goes on for at least `seconds` and until `min_frames` frames, some audio,
 * a rumble answer and an input ack have arrived, or until a generous
 * deadline (120 s: under valgrind one thread runs at a time and the
 * encoding console can starve the client for long stretches). Returns 0
 * when the stream closed early, 1 otherwise (the caller judges the counts). */
int stream_until(xnano_client *client, struct stream_counts *k, unsigned long min_frames,
                 double seconds);

#endif
