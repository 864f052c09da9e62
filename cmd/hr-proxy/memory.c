/* Giving memory back. A request body of many megabytes passes through
 * buffers of its size: libevent's input chunks, the body's copies, the
 * compressor's. A daemon that keeps what one such request grew stays large
 * for the rest of its life, so after one the memory goes back to the system. */
#include "proxy.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

/* With glibc's sliding mmap threshold, blocks of up to 32 MiB would come
 * from the heap after the first large one was freed, and stay. A fixed
 * threshold gives each block of 1 MiB or more its own mapping, unmapped
 * when freed. */
void memory_setup(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
#endif
}

/* The small blocks (libevent reads a body in chunks under the threshold)
 * leave free pages inside the heap; malloc_trim returns them. Deferred to
 * the next turn of the loop: libevent frees the request after the
 * exchange's end is handled. */
static void trim_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

void memory_return_later(struct event_base *base)
{
    struct timeval now = {0, 0};
    event_base_once(base, -1, EV_TIMEOUT, trim_now, NULL, &now);
}
