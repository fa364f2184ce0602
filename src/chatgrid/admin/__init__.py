"""Admin actions: one function per action, called by every door.

The console pages, the JSON API and the ``chatgrid`` command call the same
function with an ``Actor`` (a signed-in user, or ``Actor.cli()``); the
function checks the rules, commits, bumps the change marker when servers
read what it changed, and writes its own audit entry. So an action has one
set of rules and one audit name and shape whichever door it came in by
(``docs/console.md`` lists them); the command line writes no audit entry
of its own.
"""
