/* Scheduling VPs on the one physical processor: the root partition's VP runs whenever it can
   (it owns the devices and emulates for the children); otherwise the child VP that ran last
   keeps the processor while it can run and did not yield, else the children's runnable VPs
   take turns. A turn ends at an exit that blocks the VP (an intercept for the root, HLT) or a
   yield (HvCallNotifyLongSpinWait, or HV_PAUSE_YIELD_SPINS PAUSEs in a row). No timer preempts
   a VP yet. Context: VMX root / SVM host, ring 0, one CPU, interrupts off. */
#include "hv.h"

static struct hv_vp *last;  /* the child VP that ran last */
static int yielded;         /* ... and gave the processor away */

static struct hv_vp *next_child(void) {
    if (last && last->state == HV_VP_RUNNABLE && !yielded) return last;
    yielded = 0;
    struct hv_vp *candidates[HV_MAX_PARTITIONS * HV_MAX_VPS];
    unsigned n = 0, start = 0;
    for (uint64_t id = HV_ROOT_PARTITION_ID + 1; id < HV_ROOT_PARTITION_ID + 1 + HV_MAX_PARTITIONS; ++id) {
        struct hv_partition *p = hv_partition_find(id);
        for (unsigned i = 0; p && i < HV_MAX_VPS; ++i) {
            const int runnable = p->vps[i].state == HV_VP_RUNNABLE;
            if (&p->vps[i] == last) start = n + (unsigned)runnable;  /* the one after it */
            if (runnable) candidates[n++] = &p->vps[i];
        }
    }
    if (!n) return NULL;
    return candidates[start < n ? start : 0];
}

void hv_scheduler_yield(struct hv_vp *vp) {
    last = vp;
    yielded = 1;
}

void hv_scheduler_run(void) {
    struct hv_vp *root = &hv_root_partition()->vps[0];
    for (;;) {
        struct hv_vp *vp = root->state == HV_VP_RUNNABLE ? root : next_child();
        if (!vp) virt_abort("hv: every virtual processor is halted or stopped");
        struct hv_exit e;
        hv_synic_deliver_pending(vp);
        hv_backend->vp_run(vp, &e);
        if (vp != root && vp != last) {
            last = vp;
            yielded = 0;
        }
        hv_intercept_handle(vp, &e);
        if (vp != root && vp->state != HV_VP_RUNNABLE) yielded = 1;  /* it blocked: its turn is over */
    }
}
