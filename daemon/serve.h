/*
 * serve.h - `kmswatch serve`: the daemon's life, from options to shutdown.
 */
#ifndef KMSWATCH_SERVE_H
#define KMSWATCH_SERVE_H

/*
 * Runs the daemon in the foreground until SIGINT or SIGTERM; SIGHUP
 * reloads the followed sources from the config file.  Returns the exit
 * status: 0 after a clean stop, 2 on a usage or config error, 3 when the
 * database or the listening socket cannot be had.
 */
int serve_main(int argc, char **argv);

#endif
