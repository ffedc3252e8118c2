# Shaped like a navigation stack's localization_launch.py: plain nodes unless use_composition,
# else the same nodes loaded into the container the bringup file starts.
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, GroupAction, OpaqueFunction
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import LoadComposableNodes, Node
from launch_ros.descriptions import ComposableNode
from nav2_common.launch import RewrittenYaml


def log_level_node(context):
    # OpaqueFunction: runs with the launch configurations Kestrel has when it gets here.
    if context.launch_configurations['use_sim_time'] == 'true':
        return [Node(package='kestrel', executable='listener', name='sim_clock_listener')]
    return []


def generate_launch_description():
    namespace = LaunchConfiguration('namespace')
    use_sim_time = LaunchConfiguration('use_sim_time')
    autostart = LaunchConfiguration('autostart')
    params_file = LaunchConfiguration('params_file')
    container_name_full = LaunchConfiguration('container_name_full')
    lifecycle_nodes = ['map_server', 'amcl']
    remappings = [('/tf', 'tf'), ('/tf_static', 'tf_static')]

    configured_params = RewrittenYaml(
        source_file=params_file, root_key=namespace,
        param_rewrites={'use_sim_time': use_sim_time, 'yaml_filename': 'map.yaml'}, convert_types=True)

    load_nodes = GroupAction(
        condition=UnlessCondition(LaunchConfiguration('use_composition')),
        actions=[
            Node(package='nav2_map_server', executable='map_server', name='map_server', output='screen',
                 parameters=[configured_params], remappings=remappings),
            Node(package='nav2_amcl', executable='amcl', name='amcl', output='screen',
                 parameters=[configured_params], remappings=remappings),
            Node(package='nav2_lifecycle_manager', executable='lifecycle_manager', name='lifecycle_manager_localization',
                 output='screen', parameters=[{'use_sim_time': use_sim_time}, {'autostart': autostart}, {'node_names': lifecycle_nodes}]),
        ])

    load_composable_nodes = LoadComposableNodes(
        condition=IfCondition(LaunchConfiguration('use_composition')),
        target_container=container_name_full,
        composable_node_descriptions=[
            ComposableNode(package='nav2_map_server', plugin='nav2_map_server::MapServer', name='map_server',
                           parameters=[configured_params], remappings=remappings),
            ComposableNode(package='nav2_amcl', plugin='nav2_amcl::AmclNode', name='amcl',
                           parameters=[configured_params], remappings=remappings),
        ])

    return LaunchDescription([
        DeclareLaunchArgument('namespace', default_value=''),
        DeclareLaunchArgument('use_sim_time', default_value='false'),
        DeclareLaunchArgument('autostart', default_value='true'),
        DeclareLaunchArgument('params_file'),
        DeclareLaunchArgument('use_composition', default_value='False'),
        DeclareLaunchArgument('container_name', default_value='nav2_container'),
        DeclareLaunchArgument('container_name_full', default_value='/nav2_container'),
        load_nodes,
        load_composable_nodes,
        OpaqueFunction(function=log_level_node),
    ])
