# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_crm_vec_global_optspecs
    string join \n odoo-url= odoo-db= odoo-username= odoo-protocol= data-dir= collection= embeddings-provider= archived= lock-timeout= json q/quiet v/verbose color= no-progress h/help V/version
end

function __fish_crm_vec_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_crm_vec_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_crm_vec_using_subcommand
    set -l cmd (__fish_crm_vec_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c crm-vec -n "__fish_crm_vec_needs_command" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "full-rebuild" -d 'Build a fresh index from every lead, then switch to it atomically'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "sync-record" -d 'Fetch leads from Odoo and write them to the index'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "sync-new" -d 'Sync everything written in Odoo since the last run, and remove deleted leads'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "delete" -d 'Remove leads from the index'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "search" -d 'Search the index by meaning and keywords, with filters'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "status" -d 'Show Odoo, index and sync state side by side'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "mcp" -d 'Serve the index to AI assistants over MCP on stdin and stdout'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "serve" -d 'Listen for Odoo\'s webhooks and keep the index current within seconds'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "completions" -d 'Print shell completions for bash, zsh, fish, elvish or PowerShell'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "man" -d 'Print the manual page of crm-vec, or write the pages of every command to a directory'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "config" -d 'Inspect the settings crm-vec resolves from flags, the environment and .env'
complete -c crm-vec -n "__fish_crm_vec_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l keep-previous -d 'Keep the previous index on disk after the switch, for rollback'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand full-rebuild" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-record" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l since -d 'Scan from this UTC time ("YYYY-MM-DD HH:MM:SS") instead of the checkpoint, for this run' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l overlap -d 'Seconds re-read behind the checkpoint, for transactions that committed late' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l dry-run -d 'Print what would change and write nothing'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l no-prune -d 'Skip the comparison of ids in Odoo and in the index (for very large databases)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l refresh-payload -d 'Re-read the payload of every indexed lead and update what drifted, without embedding'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand sync-new" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand delete" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l limit -d 'Number of hits to return (1 to 100)' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l stage -d 'Only leads in this stage (its name in any letter case, e.g. "Won")' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l salesperson -d 'Only leads of this salesperson (their name)' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l team -d 'Only leads of this sales team (its name)' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l type -d 'Only leads of this type' -r -f -a "lead\t''
opportunity\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l min-revenue -d 'Only leads whose expected revenue is at least this amount, in the lead\'s currency' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l max-revenue -d 'Only leads whose expected revenue is at most this amount, in the lead\'s currency' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l include-archived -d 'Also return archived (lost) leads kept with CRM_VEC_ARCHIVED=keep'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand search" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l max-lag -d 'With --check: the oldest unsynced change allowed, in minutes' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l deep -d 'Compare every id in Odoo with the index, to count missing and orphaned points'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l check -d 'Exit 1 when a problem is found (for health checks): a backlog older than --max-lag, an Odoo that cannot be used, no index, an index built with another embedding model, drift found by --deep, webhook events that failed'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand status" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l listen -d 'Also run the webhook listener on this address, in the same process' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l wait-timeout -d 'How long a ?wait=true request waits for its result (e.g. 10s, 500ms)' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l settle-delay -d 'How long an event waits before the lead is read from Odoo, so that Odoo\'s transaction has committed and a burst of webhooks becomes one sync' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l reconcile-every -d 'How often an incremental sync catches changes no webhook delivered, starting when the listener starts; 0 turns it off' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l not-found-window -d 'How long a lead that Odoo does not return yet is retried before it counts as gone' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l retry-base -d 'First delay of the retries after a failure; each retry waits about twice as long' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l max-attempts -d 'Attempts before an event is marked failed' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l read-only -d 'Serve only the search and status tools, so the assistant cannot change the index'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l allow-unauthenticated -d 'Listen on a non-loopback address even without WEBHOOK_SECRET'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand mcp" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l host -d 'Address to listen on; HOST in the environment [default: 127.0.0.1]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l port -d 'Port to listen on, 0 for any free port; PORT in the environment [default: 3000]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l wait-timeout -d 'How long a ?wait=true request waits for its result (e.g. 10s, 500ms)' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l settle-delay -d 'How long an event waits before the lead is read from Odoo, so that Odoo\'s transaction has committed and a burst of webhooks becomes one sync' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l reconcile-every -d 'How often an incremental sync catches changes no webhook delivered, starting when the listener starts; 0 turns it off' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l not-found-window -d 'How long a lead that Odoo does not return yet is retried before it counts as gone' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l retry-base -d 'First delay of the retries after a failure; each retry waits about twice as long' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l max-attempts -d 'Attempts before an event is marked failed' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l allow-unauthenticated -d 'Listen on a non-loopback address even without WEBHOOK_SECRET'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand serve" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l write -d 'Write the completions of every shell into this directory instead of printing one' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand completions" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l write -d 'Write crm-vec.1 and one page per command (crm-vec-search.1, ...) into this directory instead of printing crm-vec.1' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand man" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Print every setting, its value and where it came from: flag, environment, .env or default'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l odoo-url -d 'Odoo base URL, the address you open Odoo at in a browser' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l odoo-db -d 'Odoo database name' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l odoo-username -d 'Odoo login of the user crm-vec reads leads as' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l odoo-protocol -d 'Odoo API protocol [default: auto]' -r -f -a "auto\t'JSON-2 on Odoo 19 and later, JSON-RPC before'
json2\t'Odoo 19\'s JSON-2 API, which takes an API key'
jsonrpc\t'the JSON-RPC endpoint of every version, deprecated in Odoo 19'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l data-dir -d 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]' -r -F
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l collection -d 'Name of the collection that holds the leads [default: odoo_crm_leads]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l embeddings-provider -d 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]' -r -f -a "voyage\t'Voyage AI (VOYAGE_API_KEY)'
openai\t'an OpenAI-compatible endpoint (EMBEDDINGS_BASE_URL, EMBEDDINGS_MODEL)'
local\t'a model run in-process (EMBEDDINGS_MODEL_DIR, `local` feature)'
none\t'keyword vectors only: no API key, no cost'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l archived -d 'Policy for archived (lost) leads [default: remove]' -r -f -a "remove\t'archived leads leave the index'
keep\t'they stay, hidden from searches unless --include-archived'"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l lock-timeout -d 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]' -r
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l color -d 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set' -r -f -a "auto\t''
always\t''
never\t''"
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l json -d 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print only errors: no messages, no warnings, no progress bars'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -l no-progress -d 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "show" -d 'Print every setting, its value and where it came from: flag, environment, .env or default'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "full-rebuild" -d 'Build a fresh index from every lead, then switch to it atomically'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "sync-record" -d 'Fetch leads from Odoo and write them to the index'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "sync-new" -d 'Sync everything written in Odoo since the last run, and remove deleted leads'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "delete" -d 'Remove leads from the index'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "search" -d 'Search the index by meaning and keywords, with filters'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "status" -d 'Show Odoo, index and sync state side by side'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "mcp" -d 'Serve the index to AI assistants over MCP on stdin and stdout'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "serve" -d 'Listen for Odoo\'s webhooks and keep the index current within seconds'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "completions" -d 'Print shell completions for bash, zsh, fish, elvish or PowerShell'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "man" -d 'Print the manual page of crm-vec, or write the pages of every command to a directory'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "config" -d 'Inspect the settings crm-vec resolves from flags, the environment and .env'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and not __fish_seen_subcommand_from full-rebuild sync-record sync-new delete search status mcp serve completions man config help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crm-vec -n "__fish_crm_vec_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "show" -d 'Print every setting, its value and where it came from: flag, environment, .env or default'
