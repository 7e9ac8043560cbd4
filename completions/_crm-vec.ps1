
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'crm-vec' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'crm-vec'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'crm-vec' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('full-rebuild', 'full-rebuild', [CompletionResultType]::ParameterValue, 'Build a fresh index from every lead, then switch to it atomically')
            [CompletionResult]::new('sync-record', 'sync-record', [CompletionResultType]::ParameterValue, 'Fetch leads from Odoo and write them to the index')
            [CompletionResult]::new('sync-new', 'sync-new', [CompletionResultType]::ParameterValue, 'Sync everything written in Odoo since the last run, and remove deleted leads')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove leads from the index')
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'Search the index by meaning and keywords, with filters')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show Odoo, index and sync state side by side')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the index to AI assistants over MCP on stdin and stdout')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Listen for Odoo''s webhooks and keep the index current within seconds')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for bash, zsh, fish, elvish or PowerShell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page of crm-vec, or write the pages of every command to a directory')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Inspect the settings crm-vec resolves from flags, the environment and .env')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crm-vec;full-rebuild' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--keep-previous', '--keep-previous', [CompletionResultType]::ParameterName, 'Keep the previous index on disk after the switch, for rollback')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;sync-record' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;sync-new' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Scan from this UTC time ("YYYY-MM-DD HH:MM:SS") instead of the checkpoint, for this run')
            [CompletionResult]::new('--overlap', '--overlap', [CompletionResultType]::ParameterName, 'Seconds re-read behind the checkpoint, for transactions that committed late')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print what would change and write nothing')
            [CompletionResult]::new('--no-prune', '--no-prune', [CompletionResultType]::ParameterName, 'Skip the comparison of ids in Odoo and in the index (for very large databases)')
            [CompletionResult]::new('--refresh-payload', '--refresh-payload', [CompletionResultType]::ParameterName, 'Re-read the payload of every indexed lead and update what drifted, without embedding')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;delete' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;search' {
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Number of hits to return (1 to 100)')
            [CompletionResult]::new('--stage', '--stage', [CompletionResultType]::ParameterName, 'Only leads in this stage (its name in any letter case, e.g. "Won")')
            [CompletionResult]::new('--salesperson', '--salesperson', [CompletionResultType]::ParameterName, 'Only leads of this salesperson (their name)')
            [CompletionResult]::new('--team', '--team', [CompletionResultType]::ParameterName, 'Only leads of this sales team (its name)')
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'Only leads of this type')
            [CompletionResult]::new('--min-revenue', '--min-revenue', [CompletionResultType]::ParameterName, 'Only leads whose expected revenue is at least this amount, in the lead''s currency')
            [CompletionResult]::new('--max-revenue', '--max-revenue', [CompletionResultType]::ParameterName, 'Only leads whose expected revenue is at most this amount, in the lead''s currency')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--include-archived', '--include-archived', [CompletionResultType]::ParameterName, 'Also return archived (lost) leads kept with CRM_VEC_ARCHIVED=keep')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;status' {
            [CompletionResult]::new('--max-lag', '--max-lag', [CompletionResultType]::ParameterName, 'With --check: the oldest unsynced change allowed, in minutes')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--deep', '--deep', [CompletionResultType]::ParameterName, 'Compare every id in Odoo with the index, to count missing and orphaned points')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Exit 1 when a problem is found (for health checks): a backlog older than --max-lag, an Odoo that cannot be used, no index, an index built with another embedding model, drift found by --deep, webhook events that failed')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;mcp' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Also run the webhook listener on this address, in the same process')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'How long a ?wait=true request waits for its result (e.g. 10s, 500ms)')
            [CompletionResult]::new('--settle-delay', '--settle-delay', [CompletionResultType]::ParameterName, 'How long an event waits before the lead is read from Odoo, so that Odoo''s transaction has committed and a burst of webhooks becomes one sync')
            [CompletionResult]::new('--reconcile-every', '--reconcile-every', [CompletionResultType]::ParameterName, 'How often an incremental sync catches changes no webhook delivered, starting when the listener starts; 0 turns it off')
            [CompletionResult]::new('--not-found-window', '--not-found-window', [CompletionResultType]::ParameterName, 'How long a lead that Odoo does not return yet is retried before it counts as gone')
            [CompletionResult]::new('--retry-base', '--retry-base', [CompletionResultType]::ParameterName, 'First delay of the retries after a failure; each retry waits about twice as long')
            [CompletionResult]::new('--max-attempts', '--max-attempts', [CompletionResultType]::ParameterName, 'Attempts before an event is marked failed')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--read-only', '--read-only', [CompletionResultType]::ParameterName, 'Serve only the search and status tools, so the assistant cannot change the index')
            [CompletionResult]::new('--allow-unauthenticated', '--allow-unauthenticated', [CompletionResultType]::ParameterName, 'Listen on a non-loopback address even without WEBHOOK_SECRET')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;serve' {
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Address to listen on; HOST in the environment [default: 127.0.0.1]')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to listen on, 0 for any free port; PORT in the environment [default: 3000]')
            [CompletionResult]::new('--wait-timeout', '--wait-timeout', [CompletionResultType]::ParameterName, 'How long a ?wait=true request waits for its result (e.g. 10s, 500ms)')
            [CompletionResult]::new('--settle-delay', '--settle-delay', [CompletionResultType]::ParameterName, 'How long an event waits before the lead is read from Odoo, so that Odoo''s transaction has committed and a burst of webhooks becomes one sync')
            [CompletionResult]::new('--reconcile-every', '--reconcile-every', [CompletionResultType]::ParameterName, 'How often an incremental sync catches changes no webhook delivered, starting when the listener starts; 0 turns it off')
            [CompletionResult]::new('--not-found-window', '--not-found-window', [CompletionResultType]::ParameterName, 'How long a lead that Odoo does not return yet is retried before it counts as gone')
            [CompletionResult]::new('--retry-base', '--retry-base', [CompletionResultType]::ParameterName, 'First delay of the retries after a failure; each retry waits about twice as long')
            [CompletionResult]::new('--max-attempts', '--max-attempts', [CompletionResultType]::ParameterName, 'Attempts before an event is marked failed')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--allow-unauthenticated', '--allow-unauthenticated', [CompletionResultType]::ParameterName, 'Listen on a non-loopback address even without WEBHOOK_SECRET')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;completions' {
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'Write the completions of every shell into this directory instead of printing one')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;man' {
            [CompletionResult]::new('--write', '--write', [CompletionResultType]::ParameterName, 'Write crm-vec.1 and one page per command (crm-vec-search.1, ...) into this directory instead of printing crm-vec.1')
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;config' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every setting, its value and where it came from: flag, environment, .env or default')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crm-vec;config;show' {
            [CompletionResult]::new('--odoo-url', '--odoo-url', [CompletionResultType]::ParameterName, 'Odoo base URL, the address you open Odoo at in a browser')
            [CompletionResult]::new('--odoo-db', '--odoo-db', [CompletionResultType]::ParameterName, 'Odoo database name')
            [CompletionResult]::new('--odoo-username', '--odoo-username', [CompletionResultType]::ParameterName, 'Odoo login of the user crm-vec reads leads as')
            [CompletionResult]::new('--odoo-protocol', '--odoo-protocol', [CompletionResultType]::ParameterName, 'Odoo API protocol [default: auto]')
            [CompletionResult]::new('--data-dir', '--data-dir', [CompletionResultType]::ParameterName, 'Directory of the embedded index [default: the platform data directory, e.g. ~/.local/share/crm-vec]')
            [CompletionResult]::new('--collection', '--collection', [CompletionResultType]::ParameterName, 'Name of the collection that holds the leads [default: odoo_crm_leads]')
            [CompletionResult]::new('--embeddings-provider', '--embeddings-provider', [CompletionResultType]::ParameterName, 'Dense embedding provider [default: voyage when VOYAGE_API_KEY is set, else none]')
            [CompletionResult]::new('--archived', '--archived', [CompletionResultType]::ParameterName, 'Policy for archived (lost) leads [default: remove]')
            [CompletionResult]::new('--lock-timeout', '--lock-timeout', [CompletionResultType]::ParameterName, 'How long to wait for another process that has the embedded index open, or, when the work runs in the process that owns it, for the write in progress there (at least 30 s); e.g. 30s or 2m, a bare number is seconds [default: 0]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to use colour and terminal styling; auto uses it on a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of a table (not for serve, mcp, completions and man)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print only errors: no messages, no warnings, no progress bars')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Log more: -v for debug, -vv for trace (RUST_LOG overrides)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Never draw a progress bar (bars are drawn only on a terminal, and not with NO_COLOR)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crm-vec;config;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every setting, its value and where it came from: flag, environment, .env or default')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crm-vec;config;help;show' {
            break
        }
        'crm-vec;config;help;help' {
            break
        }
        'crm-vec;help' {
            [CompletionResult]::new('full-rebuild', 'full-rebuild', [CompletionResultType]::ParameterValue, 'Build a fresh index from every lead, then switch to it atomically')
            [CompletionResult]::new('sync-record', 'sync-record', [CompletionResultType]::ParameterValue, 'Fetch leads from Odoo and write them to the index')
            [CompletionResult]::new('sync-new', 'sync-new', [CompletionResultType]::ParameterValue, 'Sync everything written in Odoo since the last run, and remove deleted leads')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Remove leads from the index')
            [CompletionResult]::new('search', 'search', [CompletionResultType]::ParameterValue, 'Search the index by meaning and keywords, with filters')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show Odoo, index and sync state side by side')
            [CompletionResult]::new('mcp', 'mcp', [CompletionResultType]::ParameterValue, 'Serve the index to AI assistants over MCP on stdin and stdout')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Listen for Odoo''s webhooks and keep the index current within seconds')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions for bash, zsh, fish, elvish or PowerShell')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the manual page of crm-vec, or write the pages of every command to a directory')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Inspect the settings crm-vec resolves from flags, the environment and .env')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crm-vec;help;full-rebuild' {
            break
        }
        'crm-vec;help;sync-record' {
            break
        }
        'crm-vec;help;sync-new' {
            break
        }
        'crm-vec;help;delete' {
            break
        }
        'crm-vec;help;search' {
            break
        }
        'crm-vec;help;status' {
            break
        }
        'crm-vec;help;mcp' {
            break
        }
        'crm-vec;help;serve' {
            break
        }
        'crm-vec;help;completions' {
            break
        }
        'crm-vec;help;man' {
            break
        }
        'crm-vec;help;config' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Print every setting, its value and where it came from: flag, environment, .env or default')
            break
        }
        'crm-vec;help;config;show' {
            break
        }
        'crm-vec;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
