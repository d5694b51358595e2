/*
 * Pacing decisions, as pure functions (see pace.h).
 */
#include "pace.h"

static const char *action_names[PACE_DO__COUNT] = {
	[PACE_DO_SEND] = "send",
	[PACE_DO_ASK] = "ask",
	[PACE_DO_RETRY] = "retry",
	[PACE_DO_TICK] = "tick",
	[PACE_DO_HANG] = "hang",
};

static const char *sign_names[PACE_SIGN__COUNT] = {
	[PACE_SIGN_NONE] = "none",
	[PACE_SIGN_DONE] = "done",
	[PACE_SIGN_PENDING] = "pending",
	[PACE_SIGN_GONE] = "gone",
};

/* Name of an action, for traces. */
const char *
pace_action_name(enum pace_action a)
{
	return a < PACE_DO__COUNT ? action_names[a] : "unknown";
}

/* Name of a sign, for traces. */
const char *
pace_sign_name(enum pace_sign s)
{
	return s < PACE_SIGN__COUNT ? sign_names[s] : "unknown";
}

/* v within [lo, hi]. */
static uint64_t
clamp_us(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* first, doubled per earlier look, at most max. */
static uint64_t
backoff_us(uint64_t first, uint64_t max, unsigned polls)
{
	uint64_t	wait = first;

	for (unsigned i = 0; i < polls && wait < max; i++)
		wait *= 2;
	return wait > max ? max : wait;
}

/* How long to wait before looking again at a pending connection. Read
 * pacing spaces its re-asks by the server's mean read time, so a slow
 * reader is not asked in vain dozens of times per fragment. */
static uint64_t
pace_retry_us(const struct pace_in *in)
{
	if (in->mode != PACE_READ)
		return backoff_us(PACE_ACK_FIRST_US, PACE_ACK_MAX_US,
		    in->polls);
	return backoff_us(clamp_us(in->read_us / 8, PACE_READ_FIRST_MIN_US,
	    PACE_READ_FIRST_MAX_US), clamp_us(in->read_us / 4,
	    PACE_READ_FIRST_MAX_US, PACE_READ_MAX_US), in->polls);
}

/* Decides what a waiting connection does, given the last sign. */
enum pace_action
pace_decide(const struct pace_in *in, enum pace_sign sign, uint64_t *wait_us)
{
	*wait_us = 0;
	switch (sign) {
	case PACE_SIGN_NONE:
		return PACE_DO_ASK;
	case PACE_SIGN_DONE:
	case PACE_SIGN_GONE:
		return PACE_DO_SEND;
	default:
		break;
	}
	if (in->hang_us != 0 && in->now_us >= in->last_send_us &&
	    in->now_us - in->last_send_us >= in->hang_us)
		return PACE_DO_HANG;
	if (in->mode == PACE_CYCLE)
		return PACE_DO_TICK;
	*wait_us = pace_retry_us(in);
	return PACE_DO_RETRY;
}

/* The server's running mean read time after one more read. */
uint64_t
pace_read_mean(uint64_t mean_us, uint64_t took_us)
{
	return mean_us == 0 ? took_us : (mean_us * 7 + took_us) / 8;
}

/* Did the server read anything since the last lookup? */
int
pace_progress(uint64_t prev_read, uint64_t received, uint64_t rqueue,
    uint64_t *now_read)
{
	uint64_t	r = received > rqueue ? received - rqueue : 0;

	*now_read = r > prev_read ? r : prev_read;
	return r > prev_read;
}

/* A Unix socket: did the server read anything since the last look? */
int
pace_outq_progress(uint64_t prev_outq, uint64_t outq, int unread)
{
	return outq < prev_outq || (outq == 0 && unread);
}

/* Has no connection shown read progress for the stall timeout? */
int
pace_stalled(uint64_t now_us, uint64_t last_progress_us, uint64_t stall_us,
    uint64_t *wait_us)
{
	uint64_t	quiet = now_us > last_progress_us ?
			    now_us - last_progress_us : 0;

	if (quiet >= stall_us) {
		*wait_us = stall_us;
		return 1;
	}
	*wait_us = stall_us - quiet;
	return 0;
}
