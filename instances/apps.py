from django.apps import AppConfig


class InstancesConfig(AppConfig):
    name = "instances"

    def ready(self) -> None:
        # Every habit answer carries its program, computed from the instances (habits
        # declares the hook: it does not import instances).
        from habits.programs import programs_source_register
        from instances.program import programs_of

        programs_source_register(programs_of)
