/*
 * sim_cmd_job.c - wbadmin get status (waits until the running job ends)
 * and wbadmin stop job [-quiet] (removes the running jobs' markers; the
 * jobs notice within 100 ms and end with their "stopped" failure). No
 * published output exists for either: the texts are plausible.
 */
#include "sim.h"
#include "sv_time.h"

#define STOP_WAIT_MS 10000

int sim_cmd_status(sim_ctx *c)
{
	if (sim_jobs_running(c) == 0) {
		sim_say(c, M_STATUS_NONE, NULL);
		return SIM_EXIT_OK;
	}
	sim_say(c, M_STATUS_RUNNING, NULL);
	while (sim_jobs_running(c) > 0)
		sv_time_sleep_ms(200);
	sim_say(c, M_STATUS_ENDED, NULL);
	return SIM_EXIT_OK;
}

int sim_cmd_stop(sim_ctx *c)
{
	uint64_t until;

	if (sim_jobs_running(c) == 0) {
		sim_jobs_stop(c); /* markers of killed jobs */
		sim_say(c, M_STOP_NONE, NULL);
		return SIM_EXIT_OK;
	}
	if (!c->o.quiet && !sim_confirm(c, M_STOP_PROMPT)) {
		sim_say(c, M_CANCELLED, NULL);
		return SIM_EXIT_CANCELLED;
	}
	sim_say(c, M_STOP_STOPPING, NULL);
	until = sv_time_mono_ms() + STOP_WAIT_MS;
	while (sim_jobs_stop(c) > 0 && sv_time_mono_ms() < until)
		sv_time_sleep_ms(100);
	sim_say(c, M_STOP_DONE, NULL);
	return SIM_EXIT_OK;
}
