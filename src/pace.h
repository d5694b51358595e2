/*
 * Pacing decisions, as pure functions of what the connection knows: the
 * pacing mode, what the last look at the kernel said (a sock_diag lookup of
 * the server's end in read pacing, SIOCOUTQ in ack and cycle pacing), the
 * time, and the server's running mean read time. No sockets, no events:
 * conn.c asks, does what the answer says, and asks again.
 *
 * Stall detection (read pacing) is decided here too: the engine keeps one
 * timestamp of the last read progress any connection showed, and asks
 * pace_stalled() when its one timer fires.
 */
#ifndef STUTTERFUZZ_PACE_H
#define STUTTERFUZZ_PACE_H

#include <stdint.h>

#include "options.h"

/* What the last look at the kernel said about the fragments sent. */
enum pace_sign {
	PACE_SIGN_NONE,		/* not looked yet since the last send */
	PACE_SIGN_DONE,		/* all read (read) or all acknowledged (ack, cycle) */
	PACE_SIGN_PENDING,	/* some still unread or unacknowledged */
	PACE_SIGN_GONE,		/* the server's end is gone (read): send, and see */
	PACE_SIGN__COUNT
};

/* What the connection does next. */
enum pace_action {
	PACE_DO_SEND,		/* send the next fragment now */
	PACE_DO_ASK,		/* look at the kernel (lookup or SIOCOUTQ) */
	PACE_DO_RETRY,		/* not yet: look again in *wait_us */
	PACE_DO_TICK,		/* not yet: look again at the next cycle tick */
	PACE_DO_HANG,		/* unread for the hang timeout: a hang finding */
	PACE_DO__COUNT
};

/* What the pacer knows of one waiting connection. */
struct pace_in {
	enum pace_mode	mode;		/* in effect: cycle, ack or read */
	uint64_t	now_us;
	uint64_t	last_send_us;	/* last fragment fully taken */
	uint64_t	hang_us;	/* --hang-timeout; 0: never */
	unsigned	polls;		/* looks since the last send */
	uint64_t	read_us;	/* server's running mean read time; 0: none yet */
};

#define PACE_ACK_FIRST_US	200	/* ack: first re-look at an unacked fragment */
#define PACE_ACK_MAX_US		20000	/* ... backing off to this */
#define PACE_READ_FIRST_MIN_US	20	/* read: first re-ask, at least */
#define PACE_READ_FIRST_MAX_US	2000	/* ... at most */
#define PACE_READ_MAX_US	20000	/* read: re-asks back off at most to this */

/* Decides what a waiting connection does, given the last sign; *wait_us is
 * set for PACE_DO_RETRY. */
enum pace_action pace_decide(const struct pace_in *in, enum pace_sign sign,
		     uint64_t *wait_us);

/* The server's running mean read time after one more read that took
 * took_us (an exponential mean, 1/8 weight to the new one). */
uint64_t	 pace_read_mean(uint64_t mean_us, uint64_t took_us);

/* Did the server read anything since the last lookup? It had read
 * prev_read bytes then, and has now received `received` with `rqueue`
 * still unread. *now_read is set to what it has read now. */
int		 pace_progress(uint64_t prev_read, uint64_t received,
		     uint64_t rqueue, uint64_t *now_read);

/* A Unix socket: did the server read anything since the last look?
 * SIOCOUTQ was prev_outq then and is outq now (it only falls by reads,
 * and rises by sends); unread says something sent was not yet seen read. */
int		 pace_outq_progress(uint64_t prev_outq, uint64_t outq,
		     int unread);

/* Has no connection shown read progress since last_progress_us for at
 * least stall_us? Then the caller looks for data waiting unread (a stall
 * if there is any). Else *wait_us says when to ask again. */
int		 pace_stalled(uint64_t now_us, uint64_t last_progress_us,
		     uint64_t stall_us, uint64_t *wait_us);

/* Names, for traces. */
const char	*pace_action_name(enum pace_action a);
const char	*pace_sign_name(enum pace_sign s);

#endif
