package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/storeline/storeline/app"
	"github.com/storeline/storeline/projections"
)

func dlqCmd() *cobra.Command {
	dlq := &cobra.Command{Use: "dlq", Short: "Dead letters of the projections: records they gave up on (list, show, replay after a fix, discard)",
		Long: "A dead letter is named consumer/topic/partition/offset, as `storeline dlq list` prints it, e.g. projection:orders/commerce/2/1045."}
	var filter projections.DeadLetterFilter
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--consumer projection:orders] [--state pending|replayed|discarded]",
		Short: "List dead letters, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := openDLQ(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			ds, err := d.List(cmd.Context(), filter)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(ds)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "DEAD LETTER\tSTATE\tREASON\tEVENT\tAT\tERROR")
			for _, x := range ds {
				event := ""
				if x.EventType != nil {
					event = *x.EventType
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%.80s\n", x.ID(), x.State, x.Reason, event, x.DeadLetteredAt.Format("2006-01-02 15:04:05"), x.Error)
			}
			return w.Flush()
		},
	}
	list.Flags().StringVar(&filter.Consumer, "consumer", "", "only this consumer's, e.g. projection:orders")
	list.Flags().StringVar(&filter.State, "state", "pending", "pending, replayed, discarded, or empty for all")
	list.Flags().IntVar(&filter.Limit, "limit", 100, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	show := &cobra.Command{
		Use:   "show DEAD-LETTER",
		Short: "Show a dead letter with its event, read back from its topic and decoded with today's schemas",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := openDLQ(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			dl, ev, evErr := d.Show(cmd.Context(), args[0])
			if dl.Consumer == "" {
				return evErr
			}
			out := map[string]any{"dead_letter": dl, "event": ev}
			if evErr != nil {
				out["event_error"] = evErr.Error()
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		},
	}

	replay := &cobra.Command{
		Use:   "replay DEAD-LETTER...",
		Short: "Apply pending dead letters again (after a fix), each in its own transaction; one that still fails stays pending",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := openDLQ(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			var failed int
			for _, id := range args {
				if err := d.Replay(cmd.Context(), id); err != nil {
					failed++
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", id, err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: replayed\n", id)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d dead letters not replayed", failed, len(args))
			}
			return nil
		},
	}

	var note string
	discard := &cobra.Command{
		Use:   "discard DEAD-LETTER... [--note why]",
		Short: "Mark pending dead letters as looked at and not to be applied",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := openDLQ(cmd)
			if err != nil {
				return err
			}
			defer d.Close()
			for _, id := range args {
				if err := d.Discard(cmd.Context(), id, note); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: discarded\n", id)
			}
			return nil
		},
	}
	discard.Flags().StringVar(&note, "note", "", "why, for the record")
	dlq.AddCommand(list, show, replay, discard)
	return dlq
}

func openDLQ(cmd *cobra.Command) (*app.DeadLetters, error) {
	cfg, log, err := load(cmd)
	if err != nil {
		return nil, err
	}
	return app.OpenDeadLetters(cmd.Context(), cfg, log)
}
