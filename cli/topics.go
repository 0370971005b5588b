package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/storeline/storeline/topics"
)

func topicsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Manage storeline's Kafka topics",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(topicsApplyCmd())
	return cmd
}

func topicsApplyCmd() *cobra.Command {
	var dryRun bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "apply [--dry-run]",
		Short: "Create or update the topics (event, dead-letter, schema registry) and print the diff",
		Long: `Brings the cluster's topics to what storeline needs: the event topics and their .dlq
dead-letter topics kept forever, and the schema registry's compacted topic, with the configured
partitions, replication factor and min.insync.replicas. Prints one line per change
("+ create", "~ alter", "~ partitions"), "! " for a difference it will not fix (fewer
partitions, another replication factor), or "no changes". Running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := load(cmd)
			if err != nil {
				return err
			}
			if len(cfg.KafkaBrokers) == 0 {
				return errors.New("topics apply: no Kafka to apply to: set STORELINE_KAFKA_BROKERS or --kafka-brokers " +
					"(the embedded broker of `storeline run` makes its own topics)")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.KafkaBrokers...))
			if err != nil {
				return fmt.Errorf("kafka client: %w", err)
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)

			plan, err := topics.Diff(ctx, adm, topics.Desired(topics.SettingsFrom(cfg)))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if err := plan.Write(out); err != nil {
				return err
			}
			if plan.Empty() {
				return nil
			}
			if dryRun {
				_, err := fmt.Fprintln(out, "dry run: nothing changed")
				return err
			}
			if err := topics.Apply(ctx, adm, plan); err != nil {
				return err
			}
			_, err = fmt.Fprintln(out, "applied")
			return err
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the diff without changing anything")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	return cmd
}
